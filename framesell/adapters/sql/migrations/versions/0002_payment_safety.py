"""Payment safety: Idempotency-Keys, applied gateway events, reconcile leases, the payment token.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported, like 0001: a migration must not change when tables.py does.
MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


def _datetime() -> sa.DateTime:
    """DATETIME with microseconds on MySQL (naive UTC everywhere)."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _exact_text(length: int) -> sa.String:
    """VARCHAR compared byte for byte on MySQL (utf8mb4_bin)."""
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def upgrade() -> None:
    """Add the orders' payment token and lease, and the request_keys and payment_events tables."""
    # Nullable columns without a default: an instant ALTER on InnoDB, a plain ADD COLUMN on SQLite.
    op.add_column("orders", sa.Column("attempt_payment_token", _exact_text(255), nullable=True))
    op.add_column("orders", sa.Column("lease_until", _datetime(), nullable=True))

    op.create_table(
        "request_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", _exact_text(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("locked_at", _datetime(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column(
            "response_body",
            sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_keys")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_request_keys_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_request_keys_order_id_orders")
        ),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_request_keys_user_id_idempotency_key"),
        "request_keys",
        ["user_id", "idempotency_key"],
        unique=True,
    )
    op.create_index(op.f("ix_request_keys_created_at"), "request_keys", ["created_at"])
    op.create_index(op.f("ix_request_keys_order_id"), "request_keys", ["order_id"])

    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", _exact_text(255), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("received_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_payment_events_event_id"), "payment_events", ["event_id"], unique=True)


def downgrade() -> None:
    """Drop everything the upgrade added."""
    op.drop_table("payment_events")
    op.drop_table("request_keys")
    # Batch mode: SQLite before 3.35 cannot drop a column, so the table is copied there.
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("attempt_payment_token")
