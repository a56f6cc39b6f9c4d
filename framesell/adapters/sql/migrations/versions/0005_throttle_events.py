"""Throttle events: declined payments and sign-ups per shopper and client address.

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-05 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005"
down_revision: str | None = "0004"
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
    """Create throttle_events with its per-key and by-age indexes."""
    op.create_table(
        "throttle_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("throttle_key", _exact_text(64), nullable=False),
        sa.Column("happened_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_events")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_throttle_events_throttle_key_happened_at"),
        "throttle_events",
        ["throttle_key", "happened_at"],
    )
    op.create_index(op.f("ix_throttle_events_happened_at"), "throttle_events", ["happened_at"])


def downgrade() -> None:
    """Drop throttle_events."""
    op.drop_table("throttle_events")
