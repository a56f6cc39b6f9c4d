"""Payments as Stripe behaves: refunded amount, PARTIALLY_REFUNDED, disputes, reconcile backoff.

Revision ID: 0006
Revises: 0005
Create Date: 2025-01-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('PENDING', 'PAID', 'FAILED', 'REFUNDED')"
NEW_STATUSES = "status IN ('PENDING', 'PAID', 'FAILED', 'PARTIALLY_REFUNDED', 'REFUNDED')"


def upgrade() -> None:
    """Add refunded_cents, dispute_status, reconcile_attempts; widen status for the new one."""
    # A full refund before this revision gave everything back: its refunded amount is the price.
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("refunded_cents", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("dispute_status", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("reconcile_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.drop_constraint(op.f("ck_orders_status_is_known"), type_="check")
        batch.alter_column(
            "status", existing_type=sa.String(16), type_=sa.String(20), existing_nullable=False
        )
        batch.create_check_constraint(op.f("ck_orders_status_is_known"), NEW_STATUSES)
    op.execute(
        "UPDATE orders SET refunded_cents = product_price_cents WHERE status = 'REFUNDED'"
    )


def downgrade() -> None:
    """Drop the three columns; a partly refunded order goes back to PAID."""
    op.execute("UPDATE orders SET status = 'PAID' WHERE status = 'PARTIALLY_REFUNDED'")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_status_is_known"), type_="check")
        batch.alter_column(
            "status", existing_type=sa.String(20), type_=sa.String(16), existing_nullable=False
        )
        batch.create_check_constraint(op.f("ck_orders_status_is_known"), OLD_STATUSES)
        batch.drop_column("reconcile_attempts")
        batch.drop_column("dispute_status")
        batch.drop_column("refunded_cents")
