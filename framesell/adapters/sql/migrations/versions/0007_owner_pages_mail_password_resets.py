"""The owner's order list (an index by status, newest first), the mail outbox, password resets.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Written out rather than imported, like 0001: a migration must not change when tables.py does.
OPTIONS: dict[str, Any] = {
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


def _long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    """Add orders(status, id), mail_outbox and password_resets."""
    op.create_index(op.f("ix_orders_status_id"), "orders", ["status", "id"])
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("mail_key", _exact_text(191), nullable=False),
        sa.Column("recipient", _exact_text(254), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("text_body", _long_text(), nullable=False),
        sa.Column("html_body", _long_text(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_try_at", _datetime(), nullable=False),
        sa.Column("sent_at", _datetime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        **OPTIONS,
    )
    op.create_index(op.f("ix_mail_outbox_mail_key"), "mail_outbox", ["mail_key"], unique=True)
    op.create_index(
        op.f("ix_mail_outbox_sent_at_next_try_at"), "mail_outbox", ["sent_at", "next_try_at"]
    )
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _exact_text(64), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("expires_at", _datetime(), nullable=False),
        sa.Column("used_at", _datetime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        **OPTIONS,
    )
    op.create_index(
        op.f("ix_password_resets_token_hash"), "password_resets", ["token_hash"], unique=True
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"])


def downgrade() -> None:
    """Drop password_resets, mail_outbox and orders(status, id)."""
    op.drop_table("password_resets")
    op.drop_table("mail_outbox")
    op.drop_index(op.f("ix_orders_status_id"), table_name="orders")
