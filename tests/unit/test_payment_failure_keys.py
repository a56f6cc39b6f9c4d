"""The keys PaymentFailureLimit stores: a stored format (shared by every process, kept
across deploys), so renaming one would silently forget everyone's declines."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from framesell.adapters.memory import FixedClock, MemoryEventCounter
from framesell.application.throttles import PaymentFailureLimit, event_key
from framesell.domain.models import Order, PaymentStatus, ProductSnapshot
from framesell.domain.money import Money


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_failed_order_is_counted_under_the_shopper_the_address_and_the_order() -> None:
    clock = FixedClock()
    counter = MemoryEventCounter()
    limit = PaymentFailureLimit(counter, clock)
    snapshot = ProductSnapshot(1, "Bridge", "https://x.example/b.jpg", Money(100))
    failed = Order(31, 7, snapshot, datetime.now(UTC), PaymentStatus.FAILED, reference="r")

    limit.count(failed, "198.51.100.10")
    limit.count(failed, "198.51.100.10")  # asked again: still one

    keys = (
        digest("declined-shopper:7"),
        digest("declined-address:198.51.100.10"),
        digest("declined-order:31"),
    )
    assert keys == (
        event_key("declined-shopper", 7),
        event_key("declined-address", "198.51.100.10"),
        event_key("declined-order", 31),
    )
    since = clock.now() - timedelta(days=1)
    assert counter.events(keys, since=since) == {key: [clock.now()] for key in keys}
