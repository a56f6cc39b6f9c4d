"""The health service: whether the shop can serve right now, for a load balancer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Health:
    """The state of what the shop depends on, checked at one moment."""

    database_ok: bool

    @property
    def ok(self) -> bool:
        """Whether every dependency answered."""
        return self.database_ok


class HealthService:
    """Checks the shop's dependencies afresh on every call, so recovery shows at once."""

    def __init__(self, database_is_reachable: Callable[[], bool]) -> None:
        self._database_is_reachable = database_is_reachable

    def check(self) -> Health:
        """Ask the database now; an exception from the check counts as unreachable."""
        try:
            database_ok = bool(self._database_is_reachable())
        except Exception:  # a health check reports, it never raises
            database_ok = False
        return Health(database_ok=database_ok)
