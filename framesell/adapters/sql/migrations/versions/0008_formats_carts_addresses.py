"""Formats, carts and addresses: product_formats, products.file_url, order lines and shipping.

Every product gets its digital download format at its price; every order placed before gets
its one line (the digital download of its product at the price it paid) written as JSON.

Revision ID: 0008
Revises: 0007
Create Date: 2025-01-08 00:00:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported, like 0001: a migration must not change when tables.py does.
MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}
DIGITAL_LABEL = "Digital download"
BATCH = 500


def upgrade() -> None:
    """Add the formats table, the file column and the order columns; fill them in."""
    op.create_table(
        "product_formats",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.CheckConstraint(
            "kind IN ('digital', 'print')", name=op.f("ck_product_formats_kind_is_known")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_formats_product_id_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_formats")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_product_formats_product_id_kind"), "product_formats", ["product_id", "kind"]
    )
    op.add_column("products", sa.Column("file_url", sa.String(2048), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column(
                "line_items",
                sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("shipping", sa.Text(), nullable=True))
        batch.add_column(sa.Column("shipping_cents", sa.Integer(), nullable=True))

    connection = op.get_bind()
    connection.execute(
        sa.text(
            "INSERT INTO product_formats (product_id, kind, label, price_cents, currency)"
            " SELECT id, 'digital', :label, price_cents, currency FROM products ORDER BY id"
        ),
        {"label": DIGITAL_LABEL},
    )
    digital: dict[int, int] = dict(
        connection.execute(
            sa.text("SELECT product_id, id FROM product_formats WHERE kind = 'digital'")
        ).all()
    )
    orders = sa.table(
        "orders",
        sa.column("id", sa.Integer()),
        sa.column("line_items", sa.Text()),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, product_id, product_description, product_url,"
                " product_price_cents, product_currency FROM orders"
                " WHERE id > :last ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            break
        connection.execute(
            orders.update().where(orders.c.id == sa.bindparam("order_id")),
            [
                {
                    "order_id": order_id,
                    "line_items": _one_line(
                        product_id, digital.get(product_id), description, url, cents, currency
                    ),
                }
                for order_id, product_id, description, url, cents, currency in rows
            ],
        )
        last = rows[-1][0]


def _one_line(
    product_id: int, format_id: int | None, description: str, url: str, cents: int, currency: str
) -> str:
    return json.dumps(
        [
            {
                "id": 1,
                "product": product_id,
                "description": description,
                "url": url,
                "format": format_id,
                "kind": "digital",
                "label": DIGITAL_LABEL,
                "quantity": 1,
                "price_cents": cents,
                "currency": currency,
            }
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def downgrade() -> None:
    """Drop what upgrade added (orders of several lines keep only their first photo)."""
    # The formats first: SQLite rebuilds products to drop a column, and nothing may refer to it.
    op.drop_table("product_formats")  # with its index (MySQL keeps it for the foreign key)
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("shipping_cents")
        batch.drop_column("shipping")
        batch.drop_column("line_items")
    # Not a batch: rebuilding products on SQLite would drop a table the orders refer to;
    # SQLite (3.35 and later) drops a plain column in place.
    op.drop_column("products", "file_url")
