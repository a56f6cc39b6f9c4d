"""The order service at its edges: gateway events that are not applied and what the log says
of them, disputes, refunds refused, money that arrived for a FAILED order, and confirm.

The gateway here is a scripted one (each answer set by the test, each call recorded), so the
rare answers (a cancel that finds the payment succeeded, a refund that cannot be made now)
are as easy to reach as the common ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

import pytest

from framesell.adapters.memory import FixedClock, MemoryUnitOfWorkFactory
from framesell.application.mail import DeliveryReport, MailOutbox
from framesell.application.orders import OrderService
from framesell.application.ports import PaymentOutcome, PaymentResult, UnitOfWork
from framesell.domain import money
from framesell.domain.errors import (
    InvalidInput,
    InvalidTransition,
    OrderNotFound,
    PaymentUnavailable,
)
from framesell.domain.models import (
    DisputeStatus,
    Order,
    PaymentAttempt,
    PaymentStatus,
    ProductSnapshot,
    User,
)
from framesell.domain.money import Money
from framesell.domain.payments import Payment, PaymentState
from framesell.domain.records import PaymentEvent

LOGGER = "framesell.application.orders"
PRICE = Money(5999)
KEY = "ref-1-attempt-1"
PENDING, PAID, FAILED, REFUNDED = (
    PaymentStatus.PENDING,
    PaymentStatus.PAID,
    PaymentStatus.FAILED,
    PaymentStatus.REFUNDED,
)
SUCCEEDED = "payment_intent.succeeded"
PAYMENT_FAILED = "payment_intent.payment_failed"
DISPUTE = "charge.dispute.created"


@dataclass
class ScriptedPayments:
    """A gateway that answers as told and records every call."""

    statuses: dict[str, PaymentResult] = field(default_factory=dict)
    cancel_result: PaymentResult | None = None
    refund_result: PaymentResult | None = None
    pay_result: PaymentResult | None = None
    calls: list[tuple[str, str, str | None]] = field(default_factory=list)

    def pay(
        self,
        amount: Money,
        payment_token: str,
        *,
        order_id: int,
        idempotency_key: str,
        order_reference: str | None = None,
    ) -> PaymentResult:
        self.calls.append(("pay", payment_token, idempotency_key))
        assert self.pay_result is not None
        return self.pay_result

    def status(self, payment_id: str) -> PaymentResult:
        self.calls.append(("status", payment_id, None))
        return self.statuses[payment_id]

    def refund(
        self, payment_id: str, *, amount: Money | None = None, idempotency_key: str
    ) -> PaymentResult:
        self.calls.append(("refund", payment_id, idempotency_key))
        assert self.refund_result is not None
        return self.refund_result

    def find_for_order(
        self, order_id: int, *, created_from: datetime, created_until: datetime
    ) -> list[Payment] | None:
        raise AssertionError("not asked in these tests")

    def cancel(self, payment_id: str, *, idempotency_key: str) -> PaymentResult:
        self.calls.append(("cancel", payment_id, idempotency_key))
        assert self.cancel_result is not None
        return self.cancel_result


class UndeliverableOutbox(MailOutbox):
    """An outbox that queues a mail for every move and cannot deliver now."""

    def __init__(self) -> None:
        pass

    def queue_order_change(self, uow: UnitOfWork, before: Order, after: Order) -> bool:
        return True

    def deliver(self, limit: int = 50) -> DeliveryReport:
        raise ConnectionError("smtp down")


@dataclass
class Shop:
    uow: MemoryUnitOfWorkFactory
    gateway: ScriptedPayments
    orders: OrderService
    user_id: int

    def add_order(
        self,
        status: PaymentStatus = PENDING,
        payment_id: str | None = "pi_1",
        *,
        attempt: bool = True,
        refunded_cents: int = 0,
        dispute: DisputeStatus | None = None,
    ) -> Order:
        with self.uow() as tx:
            order = tx.orders.add(
                Order(
                    None,
                    self.user_id,
                    ProductSnapshot(1, "Bridge", "https://x.example/b.jpg", PRICE),
                    FixedClock().now(),
                    status=status,
                    reference="ref-1",
                    attempt=(
                        PaymentAttempt(1, KEY, payment_id=payment_id, payment_token="tok_visa")
                        if attempt
                        else None
                    ),
                    refunded_cents=refunded_cents,
                    dispute=dispute,
                )
            )
            tx.commit()
        return order

    def order(self, order_id: int | None) -> Order:
        with self.uow() as tx:
            found = tx.orders.get(order_id or 0)
        assert found is not None
        return found

    def answer(self, payment: Payment) -> None:
        self.gateway.statuses[payment.id] = PaymentResult(
            PaymentOutcome.PAID, payment.id, payment=payment
        )


def make_shop(*, livemode: bool = False, mail: MailOutbox | None = None) -> Shop:
    uow = MemoryUnitOfWorkFactory()
    gateway = ScriptedPayments()
    with uow() as tx:
        user = tx.users.add(User(None, "shopper@example.com", "Foo", "Bar", "hash"))
        tx.commit()
    orders = OrderService(
        uow, None, gateway, FixedClock(), livemode=livemode, mail=mail  # type: ignore[arg-type]
    )
    return Shop(uow, gateway, orders, user.id or 0)


@pytest.fixture
def shop() -> Shop:
    return make_shop()


def payment(
    state: PaymentState,
    payment_id: str = "pi_1",
    *,
    amount: Money = PRICE,
    refunded_cents: int = 0,
    order_id: int | None = None,
    reference: str | None = None,
) -> Payment:
    return Payment(
        payment_id,
        state,
        amount,
        order_id=order_id,
        refunded_cents=refunded_cents,
        order_reference=reference,
    )


def logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, object, tuple[object, ...]]]:
    """Every line the order service logged: level, unformatted message, arguments."""
    return [
        (r.levelname, r.msg, tuple(r.args or ()))
        for r in caplog.records
        if r.name == LOGGER
    ]


# --- events that are not applied, and what the log says of them ----------------------------


@pytest.mark.parametrize(("shop_live", "event_live"), [(False, True), (True, False)])
def test_an_event_of_the_other_mode_is_not_applied_and_the_log_names_both_modes(
    caplog: pytest.LogCaptureFixture, shop_live: bool, event_live: bool
) -> None:
    shop = make_shop(livemode=shop_live)
    order = shop.add_order()
    shop.answer(payment(PaymentState.SUCCEEDED))
    event = PaymentEvent("evt_1", SUCCEEDED, "pi_1", order.id, livemode=event_live)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(event) is False
    assert shop.order(order.id) == order
    mode = {True: "live", False: "test"}
    assert logged(caplog) == [
        (
            "WARNING",
            "payment event %s (%s) is from %s mode, the shop runs in %s mode: not applied",
            ("evt_1", SUCCEEDED, mode[event_live], mode[shop_live]),
        )
    ]


def test_an_event_recorded_before_changes_nothing_and_logs_nothing(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    order = shop.add_order()
    shop.answer(payment(PaymentState.SUCCEEDED))
    with shop.uow() as tx:
        tx.payment_events.add("evt_1", SUCCEEDED, FixedClock().now())
        tx.commit()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(PaymentEvent("evt_1", SUCCEEDED, "pi_1")) is False
    assert shop.order(order.id) == order
    assert shop.gateway.calls == []
    assert logged(caplog) == []


def test_an_event_found_by_its_payment_is_applied_to_that_order_whatever_order_it_names(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    order = shop.add_order()
    other = shop.add_order(payment_id="pi_2")
    shop.answer(payment(PaymentState.SUCCEEDED))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(
            PaymentEvent("evt_1", SUCCEEDED, "pi_1", other.id)
        )
    assert shop.order(order.id).status is PAID
    assert shop.order(other.id) == other
    assert logged(caplog) == [
        (
            "INFO",
            "payment event %s (%s) for order %s: %s",
            ("evt_1", SUCCEEDED, order.id, "applied"),
        )
    ]


@pytest.mark.parametrize(
    ("payment_id", "names_order"),
    [(None, True), ("pi_unknown", False), (None, False)],
)
def test_an_event_for_no_order_of_this_shop_is_ignored_and_logged_as_info(
    shop: Shop, caplog: pytest.LogCaptureFixture, payment_id: str | None, names_order: bool
) -> None:
    order = shop.add_order(payment_id=None)
    event = PaymentEvent("evt_1", SUCCEEDED, payment_id, order.id if names_order else None)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(event) is False
    assert shop.order(order.id) == order
    assert shop.gateway.calls == []
    assert logged(caplog) == [
        (
            "INFO",
            "payment event %s (%s) for payment %s is not for an order of this shop: ignored",
            ("evt_1", SUCCEEDED, payment_id),
        )
    ]


def test_an_event_naming_an_order_but_another_payment_than_its_own_is_not_applied(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    order = shop.add_order()
    shop.answer(payment(PaymentState.SUCCEEDED, "pi_other", order_id=order.id, reference="ref-1"))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(
            PaymentEvent("evt_1", SUCCEEDED, "pi_other", order.id)
        ) is False
    assert shop.order(order.id) == order
    assert logged(caplog) == [
        (
            "WARNING",
            "payment event %s (%s) names order %s but payment %s, not the order's %s:"
            " not applied",
            ("evt_1", SUCCEEDED, order.id, "pi_other", "pi_1"),
        )
    ]


@pytest.fixture
def two_currencies(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shop as it would be with a second currency (only one is supported today)."""
    monkeypatch.setattr(money, "SUPPORTED_CURRENCIES", frozenset({"usd", "eur"}))


@pytest.mark.usefixtures("two_currencies")
@pytest.mark.parametrize(
    ("with_attempt", "cents", "currency"),
    [(True, 100, "usd"), (True, PRICE.cents, "eur"), (False, PRICE.cents, "usd")],
)
def test_an_event_whose_payment_does_not_match_the_order_is_remembered_not_applied(
    shop: Shop,
    caplog: pytest.LogCaptureFixture,
    with_attempt: bool,
    cents: int,
    currency: str,
) -> None:
    order = shop.add_order(payment_id=None, attempt=with_attempt)
    shop.answer(
        payment(
            PaymentState.SUCCEEDED,
            "pi_9",
            amount=Money(cents, currency),
            order_id=order.id,
            reference="ref-1",
        )
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(
            PaymentEvent("evt_1", SUCCEEDED, "pi_9", order.id)
        ) is False
    assert shop.order(order.id) == order
    with shop.uow() as tx:
        assert tx.payment_events.contains("evt_1")
    assert logged(caplog) == [
        (
            "WARNING",
            "payment event %s (%s): payment %s does not match order %s"
            " (its payment, amount or currency differs): not applied",
            ("evt_1", SUCCEEDED, "pi_9", order.id),
        )
    ]


def test_an_applied_event_and_one_that_changes_nothing_are_both_logged(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    order = shop.add_order()
    shop.answer(payment(PaymentState.SUCCEEDED))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(PaymentEvent("evt_1", SUCCEEDED, "pi_1"))
        assert not shop.orders.apply_payment_event(PaymentEvent("evt_2", SUCCEEDED, "pi_1"))
    message = "payment event %s (%s) for order %s: %s"
    assert logged(caplog) == [
        ("INFO", message, ("evt_1", SUCCEEDED, order.id, "applied")),
        ("INFO", message, ("evt_2", SUCCEEDED, order.id, "no change")),
    ]


def test_a_failed_event_for_a_failed_order_records_no_payment_on_it(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    # Declined before the gateway showed a payment: the FAILED order keeps no payment id.
    order = shop.add_order(FAILED, payment_id=None)
    shop.answer(payment(PaymentState.FAILED, "pi_9", order_id=order.id, reference="ref-1"))
    assert not shop.orders.apply_payment_event(
        PaymentEvent("evt_1", PAYMENT_FAILED, "pi_9", order.id)
    )
    assert shop.order(order.id) == order
    assert [c[0] for c in shop.gateway.calls] == ["status"]


# --- a payment that failed is closed; money that arrived for a FAILED order goes back ------


def test_a_failed_payment_of_a_pending_order_is_canceled_at_the_gateway(shop: Shop) -> None:
    order = shop.add_order()
    shop.answer(payment(PaymentState.FAILED))
    shop.gateway.cancel_result = PaymentResult(
        PaymentOutcome.DECLINED, "pi_1", payment=payment(PaymentState.FAILED)
    )
    assert shop.orders.apply_payment_event(PaymentEvent("evt_1", PAYMENT_FAILED, "pi_1"))
    assert shop.order(order.id) == replace(order, status=FAILED)
    assert shop.gateway.calls == [
        ("status", "pi_1", None),
        ("cancel", "pi_1", f"{KEY}-cancel"),
    ]


def test_a_cancel_that_finds_the_payment_succeeded_refunds_it_all(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    order = shop.add_order()
    shop.answer(payment(PaymentState.FAILED))
    shop.gateway.cancel_result = PaymentResult(
        PaymentOutcome.PAID, "pi_1", payment=payment(PaymentState.SUCCEEDED)
    )
    shop.gateway.refund_result = PaymentResult(
        PaymentOutcome.REFUNDED,
        "pi_1",
        payment=payment(PaymentState.REFUNDED, refunded_cents=PRICE.cents),
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(PaymentEvent("evt_1", PAYMENT_FAILED, "pi_1"))
    assert shop.order(order.id) == replace(order, status=REFUNDED, refunded_cents=PRICE.cents)
    assert shop.gateway.calls == [
        ("status", "pi_1", None),
        ("cancel", "pi_1", f"{KEY}-cancel"),
        ("refund", "pi_1", f"{KEY}-refund-failed-order"),
    ]
    assert logged(caplog) == [
        (
            "WARNING",
            "payment %s took %s for order %s, which had FAILED: refunding it",
            ("pi_1", PRICE, order.id),
        ),
        ("INFO", "payment event %s (%s) for order %s: %s",
         ("evt_1", PAYMENT_FAILED, order.id, "applied")),
    ]


def test_a_cancel_that_finds_the_payment_already_refunded_refunds_nothing_more(
    shop: Shop,
) -> None:
    order = shop.add_order()
    shop.answer(payment(PaymentState.FAILED))
    shop.gateway.cancel_result = PaymentResult(
        PaymentOutcome.REFUNDED,
        "pi_1",
        payment=payment(PaymentState.REFUNDED, refunded_cents=PRICE.cents),
    )
    assert shop.orders.apply_payment_event(PaymentEvent("evt_1", PAYMENT_FAILED, "pi_1"))
    assert shop.order(order.id) == replace(order, status=REFUNDED, refunded_cents=PRICE.cents)
    assert [c[0] for c in shop.gateway.calls] == ["status", "cancel"]


def test_money_that_arrived_for_a_failed_order_is_refunded_and_its_payment_recorded(
    shop: Shop,
) -> None:
    order = shop.add_order(FAILED, payment_id=None)
    shop.answer(payment(PaymentState.SUCCEEDED, "pi_9", order_id=order.id, reference="ref-1"))
    shop.gateway.refund_result = PaymentResult(
        PaymentOutcome.REFUNDED,
        "pi_9",
        payment=payment(PaymentState.REFUNDED, "pi_9", refunded_cents=PRICE.cents),
    )
    assert shop.orders.apply_payment_event(PaymentEvent("evt_1", SUCCEEDED, "pi_9", order.id))
    assert order.attempt is not None
    assert shop.order(order.id) == replace(
        order,
        status=REFUNDED,
        refunded_cents=PRICE.cents,
        attempt=replace(order.attempt, payment_id="pi_9"),
    )
    assert shop.gateway.calls == [
        ("status", "pi_9", None),
        ("refund", "pi_9", f"{KEY}-refund-failed-order"),
    ]


def test_a_refund_of_a_failed_orders_money_that_cannot_be_made_now_is_logged_as_an_error(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    order = shop.add_order()
    shop.answer(payment(PaymentState.FAILED))
    shop.gateway.cancel_result = PaymentResult(
        PaymentOutcome.PAID, "pi_1", payment=payment(PaymentState.SUCCEEDED)
    )
    shop.gateway.refund_result = PaymentResult(PaymentOutcome.UNAVAILABLE, "pi_1", "down")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        shop.orders.apply_payment_event(PaymentEvent("evt_1", PAYMENT_FAILED, "pi_1"))
    assert shop.order(order.id) == replace(order, status=FAILED)
    assert logged(caplog)[:2] == [
        (
            "WARNING",
            "payment %s took %s for order %s, which had FAILED: refunding it",
            ("pi_1", PRICE, order.id),
        ),
        (
            "ERROR",
            "could not refund payment %s of FAILED order %s yet",
            ("pi_1", order.id),
        ),
    ]


def test_a_mail_that_cannot_be_delivered_now_is_logged_and_the_payment_still_settles(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shop = make_shop(mail=UndeliverableOutbox())
    order = shop.add_order()
    shop.answer(payment(PaymentState.SUCCEEDED))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(PaymentEvent("evt_1", SUCCEEDED, "pi_1"))
    assert shop.order(order.id).status is PAID
    assert logged(caplog)[0] == ("ERROR", "could not deliver the queued mail now", ())
    assert caplog.records[0].exc_info is not None


# --- disputes ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["bogus", None])
def test_a_dispute_event_of_an_unknown_status_is_not_applied(
    shop: Shop, caplog: pytest.LogCaptureFixture, status: str | None
) -> None:
    order = shop.add_order(PAID)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(
            PaymentEvent("evt_1", DISPUTE, "pi_1", dispute_status=status)
        ) is False
    assert shop.order(order.id) == order
    assert logged(caplog)[0] == (
        "WARNING", "dispute event %s has an unknown status %r", ("evt_1", status)
    )
    assert logged(caplog)[1][2][-1] == "no change"


@pytest.mark.parametrize("with_attempt", [True, False])
def test_a_dispute_naming_another_payment_than_the_orders_is_not_applied(
    shop: Shop, caplog: pytest.LogCaptureFixture, with_attempt: bool
) -> None:
    order = shop.add_order(PAID, payment_id=None, attempt=with_attempt)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(
            PaymentEvent("evt_1", DISPUTE, "pi_9", order.id, dispute_status="needs_response")
        ) is False
    assert shop.order(order.id) == order
    assert logged(caplog) == [
        (
            "WARNING",
            "dispute event %s names payment %s, not order %s's: not applied",
            ("evt_1", "pi_9", order.id),
        ),
        ("INFO", "payment event %s (%s) for order %s: %s",
         ("evt_1", DISPUTE, order.id, "no change")),
    ]


def test_a_chargeback_is_recorded_and_logged(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    order = shop.add_order(PAID)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert shop.orders.apply_payment_event(
            PaymentEvent("evt_1", DISPUTE, "pi_1", dispute_status="needs_response")
        )
    assert shop.order(order.id) == replace(order, dispute=DisputeStatus.NEEDS_RESPONSE)
    assert logged(caplog)[0] == (
        "WARNING",
        "chargeback on order %s (payment %s): %s",
        (order.id, "pi_1", "needs_response"),
    )


# --- refunds refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payment_id", "with_attempt"), [(None, True), ("pi_1", False)]
)
def test_a_paid_order_without_a_known_payment_cannot_be_refunded(
    shop: Shop, payment_id: str | None, with_attempt: bool
) -> None:
    order = shop.add_order(PAID, payment_id=payment_id, attempt=with_attempt)
    with pytest.raises(InvalidTransition) as refused:
        shop.orders.refund(order.id or 0)
    assert refused.value.message == "only a paid order can be refunded, not PAID"
    assert shop.gateway.calls == []


@pytest.mark.usefixtures("two_currencies")
def test_a_refund_in_another_currency_is_refused_for_the_amount(shop: Shop) -> None:
    order = shop.add_order(PAID)
    with pytest.raises(InvalidInput) as refused:
        shop.orders.refund(order.id or 0, Money(100, "eur"))
    assert (refused.value.message, refused.value.field) == (
        "a refund is in the order's currency",
        "amount",
    )
    assert shop.gateway.calls == []


def test_a_refund_says_why_the_gateway_could_not_answer(shop: Shop) -> None:
    order = shop.add_order(PAID)
    shop.gateway.statuses["pi_1"] = PaymentResult(PaymentOutcome.UNAVAILABLE, None, "rate limited")
    with pytest.raises(PaymentUnavailable) as refused:
        shop.orders.refund(order.id or 0)
    assert refused.value.message == "rate limited"


def test_a_refund_the_gateway_cannot_make_now_says_why(shop: Shop) -> None:
    order = shop.add_order(PAID)
    shop.answer(payment(PaymentState.SUCCEEDED))
    shop.gateway.refund_result = PaymentResult(PaymentOutcome.UNAVAILABLE, None, "timed out")
    with pytest.raises(PaymentUnavailable) as refused:
        shop.orders.refund(order.id or 0)
    assert refused.value.message == "timed out"
    assert shop.order(order.id) == order


def test_a_full_refund_of_a_refunded_order_asks_the_gateway_for_nothing_more(
    shop: Shop,
) -> None:
    order = shop.add_order(REFUNDED, refunded_cents=PRICE.cents)
    shop.answer(payment(PaymentState.REFUNDED, refunded_cents=PRICE.cents))
    assert shop.orders.refund(order.id or 0) == order
    assert shop.gateway.calls == [("status", "pi_1", None)]


def test_a_full_refund_of_the_last_cent_is_made(shop: Shop) -> None:
    order = shop.add_order(PaymentStatus.PARTIALLY_REFUNDED, refunded_cents=PRICE.cents - 1)
    shop.answer(payment(PaymentState.SUCCEEDED, refunded_cents=PRICE.cents - 1))
    shop.gateway.refund_result = PaymentResult(
        PaymentOutcome.REFUNDED,
        "pi_1",
        payment=payment(PaymentState.REFUNDED, refunded_cents=PRICE.cents),
    )
    assert shop.orders.refund(order.id or 0) == replace(
        order, status=REFUNDED, refunded_cents=PRICE.cents
    )
    assert shop.gateway.calls[-1] == ("refund", "pi_1", f"{KEY}-refund-after-{PRICE.cents - 1}")


# --- confirm -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(PAID, PaymentOutcome.PAID), (FAILED, PaymentOutcome.DECLINED)],
)
def test_confirming_a_settled_order_says_how_it_stands(
    shop: Shop, status: PaymentStatus, outcome: PaymentOutcome
) -> None:
    order = shop.add_order(status)
    placement = shop.orders.confirm(shop.user_id, order.id or 0)
    assert (placement.order, placement.outcome) == (order, outcome)
    assert shop.gateway.calls == []


def test_confirming_a_pending_order_without_a_payment_charges_it_under_its_key(
    shop: Shop,
) -> None:
    order = shop.add_order(payment_id=None)
    shop.gateway.pay_result = PaymentResult(
        PaymentOutcome.PAID, "pi_1", payment=payment(PaymentState.SUCCEEDED)
    )
    placement = shop.orders.confirm(shop.user_id, order.id or 0)
    assert order.attempt is not None
    paid = replace(order, status=PAID, attempt=replace(order.attempt, payment_id="pi_1"))
    assert (placement.order, placement.outcome) == (paid, PaymentOutcome.PAID)
    assert shop.gateway.calls == [("pay", "tok_visa", KEY)]


def test_confirming_a_pending_order_with_no_attempt_leaves_it_pending(shop: Shop) -> None:
    order = shop.add_order(attempt=False)
    placement = shop.orders.confirm(shop.user_id, order.id or 0)
    assert (placement.order, placement.outcome) == (order, PaymentOutcome.PENDING)
    assert shop.gateway.calls == []


def test_confirming_another_shoppers_order_is_not_found(shop: Shop) -> None:
    order = shop.add_order(payment_id=None)
    with pytest.raises(OrderNotFound):
        shop.orders.confirm(shop.user_id + 1, order.id or 0)
