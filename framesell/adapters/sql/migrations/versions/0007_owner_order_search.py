"""The owner's order list: an index for filtering by status, newest first.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add orders(status, id)."""
    op.create_index(op.f("ix_orders_status_id"), "orders", ["status", "id"])


def downgrade() -> None:
    """Drop orders(status, id)."""
    op.drop_index(op.f("ix_orders_status_id"), table_name="orders")
