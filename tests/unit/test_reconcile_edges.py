"""Reconciliation and resuming at their edges, against a payment service that records calls.

The order service is built on memory storage with a scripted payment service, so each test
says exactly what the gateway answers and checks what the shop asked of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from framesell.adapters.memory import FixedClock, MemoryUnitOfWorkFactory
from framesell.application.orders import OrderService
from framesell.application.ports import PaymentOutcome, PaymentResult
from framesell.domain.models import Order, PaymentAttempt, PaymentStatus, ProductSnapshot
from framesell.domain.money import Money
from framesell.domain.payments import Payment, PaymentState
from framesell.domain.records import PaymentEvent

PRICE = Money(1500)
LOG = "framesell.application.orders"


def _result(payment: Payment) -> PaymentResult:
    outcome = {
        PaymentState.SUCCEEDED: PaymentOutcome.PAID,
        PaymentState.FAILED: PaymentOutcome.DECLINED,
        PaymentState.PROCESSING: PaymentOutcome.PENDING,
        PaymentState.REQUIRES_ACTION: PaymentOutcome.REQUIRES_ACTION,
        PaymentState.REFUNDED: PaymentOutcome.REFUNDED,
    }[payment.state]
    return PaymentResult(outcome, payment.id, payment=payment)


@dataclass
class ScriptedPayments:
    """The Payments port: answers from ``found`` / ``known``, every call recorded."""

    found: list[Payment] | None = field(default_factory=list)
    known: dict[str, Payment] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    during_lookup: Callable[[int], None] | None = None

    def pay(
        self,
        amount: Money,
        payment_token: str,
        *,
        order_id: int,
        idempotency_key: str,
        order_reference: str | None = None,
    ) -> PaymentResult:
        self.calls.append(("pay", order_id, idempotency_key))
        return PaymentResult(PaymentOutcome.UNAVAILABLE)

    def status(self, payment_id: str) -> PaymentResult:
        self.calls.append(("status", payment_id))
        return _result(self.known[payment_id])

    def refund(
        self, payment_id: str, *, amount: Money | None = None, idempotency_key: str
    ) -> PaymentResult:
        self.calls.append(("refund", payment_id, idempotency_key))
        return PaymentResult(PaymentOutcome.UNAVAILABLE)

    def find_for_order(
        self, order_id: int, *, created_from: datetime, created_until: datetime
    ) -> list[Payment] | None:
        self.calls.append(("find", order_id, created_from, created_until))
        if self.during_lookup is not None:
            self.during_lookup(order_id)
        return self.found

    def cancel(self, payment_id: str, *, idempotency_key: str) -> PaymentResult:
        self.calls.append(("cancel", payment_id, idempotency_key))
        payment = next((p for p in self.found or [] if p.id == payment_id), None)
        if payment is None or payment.charged:
            return _result(payment) if payment else PaymentResult(PaymentOutcome.UNAVAILABLE)
        return _result(replace(payment, state=PaymentState.FAILED))

    def named(self, kind: str) -> list[tuple[Any, ...]]:
        return [call for call in self.calls if call[0] == kind]


@dataclass
class Rig:
    orders: OrderService
    uow: MemoryUnitOfWorkFactory
    clock: FixedClock
    payments: ScriptedPayments

    def add(
        self,
        *,
        age: timedelta = timedelta(hours=1),
        payment_id: str | None = None,
        token: str | None = None,
        status: PaymentStatus = PaymentStatus.PENDING,
        reference: str = "ref-1",
    ) -> Order:
        order = Order(
            id=None,
            user_id=7,
            product=ProductSnapshot(3, "Lake", "https://img/lake.jpg", PRICE),
            created_at=self.clock.now() - age,
            status=status,
            reference=reference,
            attempt=PaymentAttempt(
                1, f"framesell-order-{reference}-attempt-1", payment_id, token
            ),
        )
        with self.uow() as uow:
            stored = uow.orders.add(order)
            uow.commit()
        return stored

    def get(self, order_id: int | None) -> Order:
        assert order_id is not None
        with self.uow() as uow:
            found = uow.orders.get(order_id)
        assert found is not None
        return found


@pytest.fixture
def rig() -> Rig:
    uow, clock, payments = MemoryUnitOfWorkFactory(), FixedClock(), ScriptedPayments()
    service = OrderService(uow, catalog=None, payments=payments, clock=clock)  # type: ignore[arg-type]
    return Rig(service, uow, clock, payments)


def _payment(order: Order, pid: str, state: PaymentState, **changes: Any) -> Payment:
    return replace(
        Payment(pid, state, PRICE, order_id=order.id, order_reference=order.reference),
        **changes,
    )


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[tuple[object, object]]:
    return [(r.msg, r.args) for r in caplog.records if r.name == LOG and r.levelno == level]


# --- the lookup of an order with no recorded payment -------------------------------------


def test_the_lookup_searches_five_minutes_around_the_order_and_fails_it_when_none(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    order = rig.add(age=timedelta(days=2))
    caplog.set_level(logging.INFO, logger=LOG)

    report = rig.orders.reconcile()

    assert rig.payments.calls == [
        (
            "find",
            order.id,
            order.created_at - timedelta(minutes=5),
            rig.clock.now() + timedelta(minutes=5),
        )
    ]  # nothing charged, nothing canceled: no payment is made up for it
    assert report.settled == {order.id: PaymentStatus.FAILED}
    failed = rig.get(order.id)
    assert failed.attempt is not None and failed.attempt.payment_id is None
    assert _records(caplog, logging.INFO) == [
        ("no payment at the gateway for order %s: failing it", (order.id,))
    ]


def test_a_charged_payment_found_wins_over_a_newer_one_and_is_logged(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    order = rig.add(age=timedelta(days=2))
    rig.payments.found = [
        _payment(order, "pi_paid", PaymentState.SUCCEEDED),
        _payment(order, "pi_newer", PaymentState.PROCESSING),
    ]
    caplog.set_level(logging.INFO, logger=LOG)

    report = rig.orders.reconcile()

    assert report.settled == {order.id: PaymentStatus.PAID}
    assert rig.payments.named("cancel") == []
    paid = rig.get(order.id)
    assert paid.attempt is not None and paid.attempt.payment_id == "pi_paid"
    assert _records(caplog, logging.WARNING) == [
        ("reconcile found payment %s for order %s", ("pi_paid", order.id))
    ]


def test_an_unfinished_payment_found_is_canceled_once_under_the_orders_cancel_key(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    order = rig.add(age=timedelta(days=2))
    rig.payments.found = [
        _payment(order, "pi_old", PaymentState.FAILED),
        _payment(order, "pi_new", PaymentState.PROCESSING),
    ]
    caplog.set_level(logging.INFO, logger=LOG)

    report = rig.orders.reconcile()

    assert order.attempt is not None
    assert rig.payments.named("cancel") == [
        ("cancel", "pi_new", f"{order.attempt.idempotency_key}-cancel")
    ]
    assert report.settled == {order.id: PaymentStatus.FAILED}
    assert _records(caplog, logging.WARNING) == [
        ("reconcile found payment %s for order %s", ("pi_new", order.id))
    ]


def test_a_payment_for_the_order_made_before_references_were_written_settles_it(
    rig: Rig,
) -> None:
    order = rig.add(age=timedelta(days=2))
    rig.payments.found = [_payment(order, "pi_1", PaymentState.SUCCEEDED, order_reference=None)]

    assert rig.orders.reconcile().settled == {order.id: PaymentStatus.PAID}


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": Money(1499)},  # another amount
        {"order_id": 999},  # made for another order
        {"order_reference": "another-ref"},  # another placement of the same order id
    ],
)
def test_a_payment_found_that_is_not_the_orders_does_not_settle_it(
    rig: Rig, changes: dict[str, Any]
) -> None:
    order = rig.add(age=timedelta(days=2))
    rig.payments.found = [_payment(order, "pi_x", PaymentState.SUCCEEDED, **changes)]

    assert rig.orders.reconcile().settled == {order.id: PaymentStatus.FAILED}
    assert rig.payments.named("cancel") == []


def test_a_gateway_that_cannot_say_leaves_the_order_pending(rig: Rig) -> None:
    order = rig.add(age=timedelta(days=2))
    rig.payments.found = None

    report = rig.orders.reconcile()

    assert report.unchanged == [order.id] and report.settled == {}
    assert rig.get(order.id).status is PaymentStatus.PENDING


# --- which step reconcile takes -----------------------------------------------------------


def test_an_order_with_a_recorded_payment_is_settled_from_its_status(rig: Rig) -> None:
    order = rig.add(payment_id="pi_1", token="tok_visa")
    rig.payments.known["pi_1"] = _payment(order, "pi_1", PaymentState.SUCCEEDED)

    assert rig.orders.reconcile().settled == {order.id: PaymentStatus.PAID}
    assert rig.payments.calls == [("status", "pi_1")]


def test_an_order_exactly_give_up_after_old_is_looked_up_not_charged_again(rig: Rig) -> None:
    order = rig.add(age=timedelta(hours=24), token="tok_visa")

    rig.orders.reconcile()

    assert [call[0] for call in rig.payments.calls] == ["find"]
    assert rig.get(order.id).status is PaymentStatus.FAILED


def test_at_most_100_orders_are_reconciled_in_one_run_by_default(rig: Rig) -> None:
    orders = [rig.add(age=timedelta(days=2, seconds=-n)) for n in range(101)]

    report = rig.orders.reconcile()

    assert len(report.settled) == 100
    assert rig.get(orders[-1].id).status is PaymentStatus.PENDING


def test_an_order_leased_by_another_worker_is_not_even_listed(rig: Rig) -> None:
    order = rig.add(age=timedelta(days=2))
    with rig.uow() as uow:
        assert order.id is not None
        assert uow.leases.lease(order.id, until=rig.clock.now() + timedelta(minutes=1),
                                now=rig.clock.now())
        uow.commit()

    report = rig.orders.reconcile()

    assert (report.settled, report.unchanged, report.skipped) == ({}, [], [])
    assert rig.payments.calls == []


def test_the_lease_holds_while_the_gateway_is_asked_and_a_lost_lease_skips_one_order(
    rig: Rig,
) -> None:
    first = rig.add(age=timedelta(days=3))
    second = rig.add(age=timedelta(days=2), reference="ref-2")
    third = rig.add(age=timedelta(days=1), reference="ref-3")
    taken: dict[int, bool] = {}

    def another_worker(order_id: int) -> None:
        # While the first order is being looked up, another worker tries it and the second.
        now = rig.clock.now()
        with rig.uow() as uow:
            for other in (first, second):
                assert other.id is not None
                taken.setdefault(other.id, uow.leases.lease(
                    other.id, until=now + timedelta(minutes=5), now=now))
            uow.commit()

    rig.payments.during_lookup = another_worker

    report = rig.orders.reconcile()

    assert first.id is not None and second.id is not None
    assert taken == {first.id: False, second.id: True}
    assert report.skipped == [second.id]
    assert report.settled == {first.id: PaymentStatus.FAILED, third.id: PaymentStatus.FAILED}


# --- resuming -------------------------------------------------------------------------------


def test_resuming_a_settled_order_answers_from_the_store_without_the_gateway(rig: Rig) -> None:
    order = rig.add(payment_id="pi_1", status=PaymentStatus.PAID)
    assert order.id is not None

    placement = rig.orders.resume(7, order.id)

    assert (placement.order, placement.outcome) == (order, PaymentOutcome.PAID)
    assert rig.payments.calls == []


def test_resuming_an_order_with_a_payment_asks_how_that_payment_stands(rig: Rig) -> None:
    order = rig.add(payment_id="pi_1", token="tok_visa")
    rig.payments.known["pi_1"] = _payment(order, "pi_1", PaymentState.SUCCEEDED)
    assert order.id is not None

    placement = rig.orders.resume(7, order.id)

    assert placement.order.status is PaymentStatus.PAID
    assert rig.payments.calls == [("status", "pi_1")]


# --- events ---------------------------------------------------------------------------------


def test_an_event_for_the_orders_recorded_payment_applies_whatever_its_metadata(
    rig: Rig,
) -> None:
    order = rig.add(payment_id="pi_1")
    # A payment whose metadata names no order (made before metadata was written).
    rig.payments.known["pi_1"] = _payment(
        order, "pi_1", PaymentState.SUCCEEDED, order_id=None, order_reference=None
    )

    assert rig.orders.apply_payment_event(
        PaymentEvent("evt_1", "payment_intent.succeeded", payment_id="pi_1")
    )
    assert rig.get(order.id).status is PaymentStatus.PAID


@pytest.mark.parametrize(("shop_live", "event_live"), [(True, False), (False, True)])
def test_an_event_of_the_other_mode_is_logged_naming_both_modes(
    rig: Rig, caplog: pytest.LogCaptureFixture, shop_live: bool, event_live: bool
) -> None:
    service = OrderService(
        rig.uow, catalog=None, payments=rig.payments, clock=rig.clock,  # type: ignore[arg-type]
        livemode=shop_live,
    )
    caplog.set_level(logging.INFO, logger=LOG)
    event = PaymentEvent("evt_1", "payment_intent.succeeded", payment_id="pi_1",
                         livemode=event_live)

    assert service.apply_payment_event(event) is False

    mode = {True: "live", False: "test"}
    assert _records(caplog, logging.WARNING) == [
        (
            "payment event %s (%s) is from %s mode, the shop runs in %s mode: not applied",
            ("evt_1", "payment_intent.succeeded", mode[event_live], mode[shop_live]),
        )
    ]
