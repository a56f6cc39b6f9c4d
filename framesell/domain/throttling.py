"""When repeated failed logins lock an email or a client address, and for how long."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    """At most ``max_failures`` failures in any ``window``; each lockout after that doubles.

    A failure that brings the failures of the last ``window`` to ``max_failures`` (a
    "strike") locks the key for ``window``; every further strike within ``memory`` doubles
    the lockout, up to ``max_lockout``. A failure recorded while a lockout was in force (a
    race between app processes) is a strike too. Attempts refused while locked are not
    failures, so they neither count nor extend the lockout.
    """

    max_failures: int = 10
    window: timedelta = timedelta(minutes=15)
    max_lockout: timedelta = timedelta(hours=1)
    memory: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        if self.window <= timedelta(0):
            raise ValueError("window must be positive")
        if self.max_lockout < self.window:
            raise ValueError("max_lockout must be at least the window")
        if self.memory < self.max_lockout:
            raise ValueError("memory must be at least max_lockout")

    def lockout(self, strikes: int) -> timedelta:
        """How long the ``strikes``-th strike locks a key: the window, doubled per strike."""
        # Capping the exponent keeps the arithmetic small for absurd strike counts.
        doubled: timedelta = self.window * (2 ** min(max(strikes - 1, 0), 32))
        return min(doubled, self.max_lockout)

    def locked_until(self, failures: Iterable[datetime]) -> datetime | None:
        """When the lockout earned by these failure times (of one key) ends, or None."""
        ordered = sorted(failures)
        oldest_in_window = 0
        strikes = 0
        until: datetime | None = None
        for index, at in enumerate(ordered):
            while ordered[oldest_in_window] <= at - self.window:
                oldest_in_window += 1
            in_window = index - oldest_in_window + 1
            if in_window >= self.max_failures or (until is not None and at < until):
                strikes += 1
                end = at + self.lockout(strikes)
                until = end if until is None else max(until, end)
        return until

    def retry_after_seconds(self, failures: Iterable[datetime], now: datetime) -> int:
        """Whole seconds until the key may try again; 0 when it is not locked."""
        until = self.locked_until(failures)
        if until is None or until <= now:
            return 0
        return max(1, math.ceil((until - now).total_seconds()))


IPV6_BUCKET_PREFIX = 64


def address_bucket(address: str) -> str:
    """The part of a client address one throttle counts: an IPv4 address, an IPv6 /64.

    One IPv6 subscriber usually gets a whole /64, so counting single IPv6 addresses would
    give one machine 2^64 fresh counters. Text that is not an address is counted as it is.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_BUCKET_PREFIX), strict=False))
    return str(parsed)


@dataclass(frozen=True)
class RateLimit:
    """At most ``max_events`` in any ``window``; the next waits until the oldest leaves it."""

    max_events: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.max_events < 1:
            raise ValueError("max_events must be at least 1")
        if self.window <= timedelta(0):
            raise ValueError("window must be positive")

    def retry_after_seconds(self, events: Iterable[datetime], now: datetime) -> int:
        """Whole seconds until one more event is allowed; 0 when it is allowed now."""
        recent = sorted(at for at in events if at > now - self.window)
        if len(recent) < self.max_events:
            return 0
        until = recent[len(recent) - self.max_events] + self.window
        return max(1, math.ceil((until - now).total_seconds()))
