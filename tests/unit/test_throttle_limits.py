"""PaymentFailureLimit and SignupLimit: their stored keys and their edges.

The keys are a stored format (shared by every process, kept across deploys), so renaming
one would silently forget everyone's declines or sign-ups.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from framesell.adapters.memory import FixedClock, MemoryEventCounter
from framesell.application.throttles import PaymentFailureLimit, SignupLimit, event_key
from framesell.domain.errors import TooManyAttempts
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


def test_a_new_account_is_counted_under_its_address() -> None:
    clock = FixedClock()
    counter = MemoryEventCounter()
    SignupLimit(counter, clock).count("198.51.100.10")
    key = digest("signup-address:198.51.100.10")
    assert key == event_key("signup-address", "198.51.100.10")
    assert counter.events((key,), since=clock.now() - timedelta(days=1)) == {key: [clock.now()]}


def _five_declines(limit: PaymentFailureLimit, clock: FixedClock, address: str | None) -> None:
    snapshot = ProductSnapshot(1, "Bridge", "https://x.example/b.jpg", Money(100))
    for order_id in range(5):
        failed = Order(order_id + 1, 7, snapshot, clock.now(), PaymentStatus.FAILED, reference="r")
        limit.count(failed, address)


def test_a_shopper_without_a_known_address_is_limited_by_the_shopper_count_alone() -> None:
    clock = FixedClock()
    limit = PaymentFailureLimit(MemoryEventCounter(), clock)
    limit.refuse_if_exceeded(7, None)  # nothing yet: no refusal, and no address needed
    _five_declines(limit, clock, None)
    with pytest.raises(TooManyAttempts) as refused:
        limit.refuse_if_exceeded(7, None)
    assert refused.value.retry_after_seconds == 3600


def test_the_last_second_of_the_wait_is_still_refused() -> None:
    clock = FixedClock()
    limit = PaymentFailureLimit(MemoryEventCounter(), clock)
    _five_declines(limit, clock, "198.51.100.10")
    clock.advance(timedelta(seconds=3599))
    with pytest.raises(TooManyAttempts) as refused:
        limit.refuse_if_exceeded(7, "198.51.100.10")
    assert refused.value.retry_after_seconds == 1
    clock.advance(timedelta(seconds=1))
    limit.refuse_if_exceeded(7, "198.51.100.10")


def test_a_key_can_be_made_of_any_text_even_a_lone_surrogate() -> None:
    # Text that cannot be UTF-8 still gets a key (never a 500); equal texts, equal keys.
    odd = "not-an-address-\ud800"
    assert event_key("declined-address", odd) == event_key("declined-address", odd)
    expected = hashlib.sha256(
        f"declined-address:{odd}".encode("utf-8", "surrogatepass")
    ).hexdigest()
    assert event_key("declined-address", odd) == expected


def test_the_last_second_of_a_sign_up_wait_is_still_refused() -> None:
    clock = FixedClock()
    signups = SignupLimit(MemoryEventCounter(), clock)
    for _ in range(20):
        signups.count("198.51.100.10")
    clock.advance(timedelta(seconds=3599))
    with pytest.raises(TooManyAttempts) as refused:
        signups.refuse_if_exceeded("198.51.100.10")
    assert refused.value.retry_after_seconds == 1
    clock.advance(timedelta(seconds=1))
    signups.refuse_if_exceeded("198.51.100.10")
