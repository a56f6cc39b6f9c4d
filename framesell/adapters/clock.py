"""The production clock: the Clock port over the system's real time, in UTC.

Tests pass their own clock instead (``FixedClock`` in ``adapters/memory.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)
