"""An order's payment status only moves forward."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from framesell.domain.errors import InvalidTransition
from framesell.domain.models import Order, PaymentStatus, ProductSnapshot
from framesell.domain.money import Money

P, F, R, N = PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.REFUNDED, PaymentStatus.PENDING
PR = PaymentStatus.PARTIALLY_REFUNDED
# A PENDING order may learn at once that its payment was refunded (events in any order); a
# FAILED one becomes REFUNDED when money that still arrived for it is given back.
FORWARD = {(N, P), (N, F), (N, PR), (N, R), (P, PR), (P, R), (PR, R), (F, R)}


@pytest.mark.parametrize("source", list(PaymentStatus))
@pytest.mark.parametrize("target", list(PaymentStatus))
def test_only_the_forward_transitions_are_allowed(
    source: PaymentStatus, target: PaymentStatus
) -> None:
    assert source.can_become(target) is ((source, target) in FORWARD)


def order(status: PaymentStatus) -> Order:
    snapshot = ProductSnapshot(1, "Bridge", "https://x.example/b.jpg", Money(100))
    return Order(1, 1, snapshot, datetime.now(UTC), status, reference="r")


def test_a_paid_order_cannot_become_failed() -> None:
    with pytest.raises(InvalidTransition):
        order(P).moved_to(F)


def test_a_refunded_order_cannot_become_paid_again() -> None:
    with pytest.raises(InvalidTransition):
        order(R).moved_to(P)


def test_payment_keys_differ_per_attempt_and_per_order() -> None:
    first = order(N)
    assert first.payment_key(1) != first.payment_key(2)
    other = Order(2, 1, first.product, first.created_at, N, reference="s")
    assert first.payment_key(1) != other.payment_key(1)


def test_a_payment_key_is_the_same_every_time_it_is_derived() -> None:
    # A retry after a crash re-reads the order and must send Stripe the key of the first try;
    # a random key would charge twice.
    first = order(N)
    reread = Order(1, 1, first.product, first.created_at, P, reference=first.reference)
    assert first.payment_key(1) == first.payment_key(1) == reread.payment_key(1)
    assert first.payment_key(2) == reread.payment_key(2)
    assert first.payment_key(1) == "framesell-order-r-attempt-1"
