"""An order's payment status only moves forward."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from framesell.domain.models import Order, PaymentStatus, ProductSnapshot, may_settle
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


@pytest.mark.parametrize("source", list(PaymentStatus))
@pytest.mark.parametrize("target", list(PaymentStatus))
def test_settling_at_the_same_refund_keeps_the_status_or_moves_it_forward(
    source: PaymentStatus, target: PaymentStatus
) -> None:
    allowed = source is target or (source, target) in FORWARD
    assert may_settle(source, 300, target, 300) is allowed


def test_settling_may_give_back_more_but_never_less() -> None:
    assert may_settle(P, 0, PR, 250) is True
    assert may_settle(PR, 250, PR, 400) is True
    assert may_settle(PR, 250, PR, 249) is False
    assert may_settle(PR, 250, R, 100) is False


def test_a_paid_order_cannot_become_failed() -> None:
    assert may_settle(P, 0, F, 0) is False


def test_a_refunded_order_cannot_become_paid_again() -> None:
    assert may_settle(R, 100, P, 100) is False


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
