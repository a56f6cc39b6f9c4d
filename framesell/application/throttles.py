"""Limits on card testing and mass sign-up, counted per shopper and per client address.

A shop that tells exactly why a card was declined, with free sign-up, is a card-checking
service unless declines are limited: after too many, a shopper's (or an address's)
purchases are refused before they reach the payment gateway, good cards too. Counted in an
EventCounter, so every app process on one database shares the counts.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from framesell.application.ports import Clock, EventCounter
from framesell.domain.errors import TooManyAttempts
from framesell.domain.models import Order, PaymentStatus
from framesell.domain.throttling import RateLimit, address_bucket

TOO_MANY_DECLINES = "too many declined payments; try again later"
TOO_MANY_SIGNUPS = "too many new accounts from this address; try again later"
DEFAULT_DECLINES_PER_SHOPPER = RateLimit(5, timedelta(hours=1))
DEFAULT_DECLINES_PER_ADDRESS = RateLimit(20, timedelta(hours=1))
DEFAULT_SIGNUPS_PER_ADDRESS = RateLimit(20, timedelta(hours=1))


def event_key(kind: str, value: object) -> str:
    """An EventCounter key: a fixed-length digest, so no id or address is stored as such."""
    return hashlib.sha256(f"{kind}:{value}".encode("utf-8", "surrogatepass")).hexdigest()


class PaymentFailureLimit:
    """At most so many declined or failed payments per shopper and per client address.

    Paid purchases never count; each failed order counts once, however often its outcome is
    asked for again.
    """

    def __init__(
        self,
        counter: EventCounter,
        clock: Clock,
        *,
        per_shopper: RateLimit = DEFAULT_DECLINES_PER_SHOPPER,
        per_address: RateLimit = DEFAULT_DECLINES_PER_ADDRESS,
    ) -> None:
        self._counter = counter
        self._clock = clock
        self._limits = (per_shopper, per_address)
        self._memory = max(per_shopper.window, per_address.window)

    def _keys(self, user_id: int, client_address: str | None) -> tuple[str, ...]:
        keys = [event_key("declined-shopper", user_id)]
        if client_address:
            keys.append(event_key("declined-address", address_bucket(client_address)))
        return tuple(keys)

    def refuse_if_exceeded(self, user_id: int, client_address: str | None) -> None:
        """Raise TooManyAttempts (with the wait) while the shopper or the address is over."""
        now = self._clock.now()
        keys = self._keys(user_id, client_address)
        found = self._counter.events(keys, since=now - self._memory)
        wait = max(
            limit.retry_after_seconds(found[key], now)
            for key, limit in zip(keys, self._limits, strict=False)
        )
        if wait > 0:
            raise TooManyAttempts(wait, TOO_MANY_DECLINES)

    def count(self, order: Order, client_address: str | None) -> None:
        """Count the order against its shopper and the address if its payment failed."""
        if order.status is not PaymentStatus.FAILED or order.id is None:
            return
        now = self._clock.now()
        once = event_key("declined-order", order.id)
        if self._counter.events((once,), since=now - self._memory)[once]:
            return  # counted when it failed
        keys = (*self._keys(order.user_id, client_address), once)
        self._counter.record(keys, now, forget_before=now - self._memory)


class SignupLimit:
    """At most so many new accounts per client address."""

    def __init__(
        self,
        counter: EventCounter,
        clock: Clock,
        per_address: RateLimit = DEFAULT_SIGNUPS_PER_ADDRESS,
    ) -> None:
        self._counter = counter
        self._clock = clock
        self._limit = per_address

    def _key(self, client_address: str) -> str:
        return event_key("signup-address", address_bucket(client_address))

    def refuse_if_exceeded(self, client_address: str | None) -> None:
        """Raise TooManyAttempts while the address has made its allowance of accounts."""
        if not client_address:
            return
        now = self._clock.now()
        key = self._key(client_address)
        found = self._counter.events((key,), since=now - self._limit.window)
        wait = self._limit.retry_after_seconds(found[key], now)
        if wait > 0:
            raise TooManyAttempts(wait, TOO_MANY_SIGNUPS)

    def count(self, client_address: str | None) -> None:
        """Count one new account against the address."""
        if not client_address:
            return
        now = self._clock.now()
        self._counter.record(
            (self._key(client_address),), now, forget_before=now - self._limit.window
        )
