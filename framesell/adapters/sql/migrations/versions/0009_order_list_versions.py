"""Each shopper's order list version: bumped with every change to one of their orders.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add users.order_list_version (0 for everyone: no process has cached a list yet)."""
    op.add_column(
        "users",
        sa.Column("order_list_version", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    """Drop users.order_list_version.

    Without batch mode: rebuilding ``users`` on SQLite would drop a table that orders refer
    to. SQLite (3.35 and later) drops an unindexed column in place, as MySQL does.
    """
    op.drop_column("users", "order_list_version")
