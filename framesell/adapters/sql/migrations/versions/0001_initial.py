"""The initial schema: users, products, and orders with their product snapshot.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from tables.py: a migration is a record of the past
# and must not change when the current schema does. tests/contract/test_migrations.py
# checks that the two agree. Names go through op.f() so that the naming convention of
# the target metadata does not rename them a second time.
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
    """Create users, products and orders with their keys and indexes."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", _exact_text(254), nullable=False),
        sa.Column("first_name", sa.String(150), nullable=False),
        sa.Column("last_name", sa.String(150), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_users_email"), "users", ["email"], unique=True)

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        **MYSQL_TABLE_OPTIONS,
    )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("product_description", sa.String(500), nullable=False),
        sa.Column("product_url", sa.String(2048), nullable=False),
        sa.Column("product_price_cents", sa.Integer(), nullable=False),
        sa.Column("product_currency", sa.String(3), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reference", _exact_text(64), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=True),
        sa.Column("attempt_idempotency_key", _exact_text(255), nullable=True),
        sa.Column("payment_id", _exact_text(255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_orders_product_id_products")
        ),
        sa.CheckConstraint(
            "status IN ('PENDING', 'PAID', 'FAILED', 'REFUNDED')",
            name=op.f("ck_orders_status_is_known"),
        ),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_orders_reference"), "orders", ["reference"], unique=True)
    op.create_index(op.f("ix_orders_user_id_id"), "orders", ["user_id", "id"])
    op.create_index(op.f("ix_orders_product_id"), "orders", ["product_id"])
    op.create_index(op.f("ix_orders_status_created_at"), "orders", ["status", "created_at"])
    op.create_index(op.f("ix_orders_payment_id"), "orders", ["payment_id"])


def downgrade() -> None:
    """Drop everything the upgrade created."""
    op.drop_table("orders")
    op.drop_table("products")
    op.drop_table("users")
