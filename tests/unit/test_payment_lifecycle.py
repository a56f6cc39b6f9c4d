"""Orders are charged at most once, settle forward only, and are never lost (memory adapters)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise

import pytest

from framesell.adapters.fake_payments import FakePaymentGateway
from framesell.adapters.memory import FixedClock, MemoryUnitOfWorkFactory
from framesell.application.catalog import CatalogService
from framesell.application.errors import PaymentEventTooEarly
from framesell.application.idempotency import (
    Answer,
    IdempotentRequests,
    PlacedOnce,
    PlaceOrderOnce,
    Start,
)
from framesell.application.orders import OrderService, Placement, Purchase
from framesell.application.payments import PaymentService
from framesell.application.ports import PaymentOutcome
from framesell.domain.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidTransition,
    PaymentUnavailable,
    ProductNotFound,
)
from framesell.domain.models import CartLine, PaymentStatus, User
from framesell.domain.money import Money
from framesell.domain.records import PaymentEvent

PAID, FAILED, PENDING, REFUNDED = (
    PaymentStatus.PAID,
    PaymentStatus.FAILED,
    PaymentStatus.PENDING,
    PaymentStatus.REFUNDED,
)


@dataclass
class Shop:
    uow: MemoryUnitOfWorkFactory
    clock: FixedClock
    gateway: FakePaymentGateway
    orders: OrderService
    idempotency: IdempotentRequests
    user_id: int
    product_id: int


@pytest.fixture
def shop() -> Shop:
    uow = MemoryUnitOfWorkFactory()
    clock = FixedClock()
    gateway = FakePaymentGateway(now=clock.now)
    catalog = CatalogService(uow)
    orders = OrderService(uow, catalog, PaymentService(gateway), clock)
    with uow() as tx:
        user = tx.users.add(User(None, "shopper@example.com", "Foo", "Bar", "hash"))
        tx.commit()
    product = catalog.add_product("Bridge", "https://x.example/b.jpg", Money(5999))
    idempotency = IdempotentRequests(uow, clock, lock_timeout=timedelta(seconds=90))
    return Shop(uow, clock, gateway, orders, idempotency, user.id or 0, product.id or 0)


def status_of(shop: Shop, order_id: int) -> PaymentStatus:
    return shop.orders.get_order(shop.user_id, order_id).status


def event(shop: Shop, event_id: str, kind: str, payment_id: str | None, order_id: int) -> bool:
    return shop.orders.apply_payment_event(PaymentEvent(event_id, kind, payment_id, order_id))


# --- Idempotency-Keys ---------------------------------------------------------------------


def test_a_new_key_starts_a_request_and_a_locked_one_is_in_use(shop: Shop) -> None:
    assert shop.idempotency.begin(shop.user_id, "k1", "f").start is Start.NEW
    with pytest.raises(IdempotencyKeyInUse):
        shop.idempotency.begin(shop.user_id, "k1", "f")


def test_the_same_key_with_another_body_is_refused(shop: Shop) -> None:
    shop.idempotency.begin(shop.user_id, "k1", "f")
    with pytest.raises(IdempotencyKeyReused):
        shop.idempotency.begin(shop.user_id, "k1", "other")


def test_an_answered_key_replays_the_stored_answer(shop: Shop) -> None:
    shop.idempotency.begin(shop.user_id, "k1", "f")
    shop.idempotency.answer(shop.user_id, "k1", 201, '{"success": true}')
    again = shop.idempotency.begin(shop.user_id, "k1", "f")
    assert (again.start, again.status, again.body) == (Start.REPLAY, 201, '{"success": true}')


def test_a_released_key_resumes_its_order(shop: Shop) -> None:
    shop.idempotency.begin(shop.user_id, "k1", "f")
    shop.gateway.fail_next_with(PaymentUnavailable)
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa", request_key="k1")
    shop.idempotency.release(shop.user_id, "k1")
    again = shop.idempotency.begin(shop.user_id, "k1", "f")
    assert (again.start, again.order_id) == (Start.RESUME, placed.order.id)


def test_a_crashed_request_can_be_taken_over_once_its_lock_is_stale(shop: Shop) -> None:
    shop.idempotency.begin(shop.user_id, "k1", "f")
    shop.clock.advance(timedelta(seconds=60))
    with pytest.raises(IdempotencyKeyInUse):
        shop.idempotency.begin(shop.user_id, "k1", "f")
    shop.clock.advance(timedelta(seconds=31))
    assert shop.idempotency.begin(shop.user_id, "k1", "f").start is Start.NEW


def test_keys_are_purged_after_the_keeping_period_only(shop: Shop) -> None:
    shop.idempotency.begin(shop.user_id, "old", "f")
    shop.clock.advance(timedelta(hours=23))
    shop.idempotency.begin(shop.user_id, "young", "f")
    assert shop.idempotency.purge() == 0
    shop.clock.advance(timedelta(hours=1, seconds=1))
    assert shop.idempotency.purge() == 1
    with pytest.raises(IdempotencyKeyReused):  # still remembered
        shop.idempotency.begin(shop.user_id, "young", "another body")
    assert shop.idempotency.begin(shop.user_id, "old", "another body").start is Start.NEW


# --- the Idempotency-Key protocol as one use case ---------------------------------------


def render(placement: Placement) -> Answer:
    """What an entrypoint would answer (here: the status and the order's id)."""
    return Answer(201 if placement.order.status is PAID else 402, str(placement.order.id))


def download_of(product_id: int) -> Purchase:
    """What the original's ``{"token", "product"}`` buys: the photo's digital download."""
    return Purchase((CartLine(product_id),))


def test_placing_once_per_key_releases_the_key_while_the_gateway_cannot_say(shop: Shop) -> None:
    place = PlaceOrderOnce(shop.orders, shop.idempotency)
    shop.gateway.fail_next_with(PaymentUnavailable, after_charging=True)

    first = place(shop.user_id, download_of(shop.product_id), "tok_visa", key="k", fingerprint="f",
                  render=render)
    assert first.placement is not None and first.placement.order.status is PENDING
    again = place(shop.user_id, download_of(shop.product_id), "tok_visa", key="k", fingerprint="f",
                  render=render)
    replay = place(shop.user_id, download_of(shop.product_id), "tok_visa", key="k", fingerprint="f",
                   render=render)

    assert again.placement is not None
    assert (again.placement.order.id, again.placement.order.status) == (
        first.placement.order.id, PAID
    )
    assert replay == PlacedOnce(replayed=Answer(201, str(first.placement.order.id)))
    assert len(shop.gateway.charges_for_order(first.placement.order.id or 0)) == 1


def test_placing_once_per_key_stores_a_decline_and_replays_it(shop: Shop) -> None:
    place = PlaceOrderOnce(shop.orders, shop.idempotency)

    first = place(shop.user_id, download_of(shop.product_id), "tok_chargeDeclined", key="d",
                  fingerprint="f", render=render)
    replay = place(shop.user_id, download_of(shop.product_id), "tok_chargeDeclined", key="d",
                   fingerprint="f", render=render)

    assert first.placement is not None and first.placement.order.status is FAILED
    assert replay.replayed == Answer(402, str(first.placement.order.id))
    assert len(shop.gateway.payments_for_order(first.placement.order.id or 0)) == 1


def test_placing_once_per_key_releases_the_key_when_placing_raises(shop: Shop) -> None:
    place = PlaceOrderOnce(shop.orders, shop.idempotency)
    with pytest.raises(ProductNotFound):
        place(shop.user_id, download_of(999_999), "tok_visa", key="bad", fingerprint="f",
              render=render)
    assert shop.idempotency.begin(shop.user_id, "bad", "f").start is Start.NEW


# --- charging once ------------------------------------------------------------------------


def test_a_lost_answer_then_a_resume_charges_once_and_pays(shop: Shop) -> None:
    shop.gateway.fail_next_with(PaymentUnavailable, after_charging=True)
    first = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    assert (first.outcome, first.order.status) == (PaymentOutcome.UNAVAILABLE, PENDING)
    order_id = first.order.id or 0
    again = shop.orders.resume(shop.user_id, order_id)
    assert again.order.status is PAID
    assert len(shop.gateway.charges_for_order(order_id)) == 1
    assert len(shop.gateway.payments_for_order(order_id)) == 1


def test_a_3d_secure_payment_is_settled_by_confirm(shop: Shop) -> None:
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "pm_card_threeDSecure2Required")
    assert placed.outcome is PaymentOutcome.REQUIRES_ACTION
    assert placed.order.attempt is not None and placed.order.attempt.payment_id
    order_id = placed.order.id or 0
    still = shop.orders.confirm(shop.user_id, order_id)
    assert (still.outcome, still.order.status) == (PaymentOutcome.REQUIRES_ACTION, PENDING)
    shop.gateway.complete_authentication(placed.order.attempt.payment_id, succeed=True)
    assert shop.orders.confirm(shop.user_id, order_id).order.status is PAID


def test_a_failed_3d_secure_challenge_fails_the_order(shop: Shop) -> None:
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "pm_card_threeDSecure2Required")
    assert placed.order.attempt is not None and placed.order.attempt.payment_id
    shop.gateway.complete_authentication(placed.order.attempt.payment_id, succeed=False)
    settled = shop.orders.confirm(shop.user_id, placed.order.id or 0)
    assert settled.order.status is FAILED
    assert shop.gateway.charges_for_order(placed.order.id or 0) == []


# --- webhooks -----------------------------------------------------------------------------


def test_a_success_event_pays_a_pending_order_once(shop: Shop) -> None:
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "pm_card_threeDSecure2Required")
    payment_id = placed.order.attempt.payment_id if placed.order.attempt else None
    order_id = placed.order.id or 0
    shop.gateway.complete_authentication(payment_id or "")
    assert event(shop, "evt_1", "payment_intent.succeeded", payment_id, order_id) is True
    assert event(shop, "evt_1", "payment_intent.succeeded", payment_id, order_id) is False
    assert status_of(shop, order_id) is PAID


def test_a_late_failure_event_never_fails_a_paid_order(shop: Shop) -> None:
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    payment_id = placed.order.attempt.payment_id if placed.order.attempt else None
    order_id = placed.order.id or 0
    assert event(shop, "evt_f", "payment_intent.payment_failed", payment_id, order_id) is False
    assert status_of(shop, order_id) is PAID


def test_a_refunded_order_never_becomes_paid_again(shop: Shop) -> None:
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    payment_id = placed.order.attempt.payment_id if placed.order.attempt else None
    order_id = placed.order.id or 0
    shop.gateway.refund_elsewhere(payment_id or "", 5999)
    assert event(shop, "evt_r", "charge.refunded", payment_id, order_id) is True
    assert event(shop, "evt_s", "payment_intent.succeeded", payment_id, order_id) is False
    assert status_of(shop, order_id) is REFUNDED


def test_an_event_for_another_payment_of_the_order_changes_nothing(shop: Shop) -> None:
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "pm_card_threeDSecure2Required")
    order_id = placed.order.id or 0
    assert event(shop, "evt_x", "payment_intent.succeeded", "pi_stale", order_id) is False
    assert status_of(shop, order_id) is PENDING


def test_an_event_the_gateway_cannot_be_asked_about_is_not_recorded_so_a_retry_applies(
    shop: Shop,
) -> None:
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "pm_card_threeDSecure2Required")
    payment_id = placed.order.attempt.payment_id if placed.order.attempt else None
    shop.gateway.complete_authentication(payment_id or "")
    shop.gateway.fail_next_with(PaymentUnavailable)
    with pytest.raises(PaymentEventTooEarly):
        event(shop, "evt_early", "payment_intent.succeeded", payment_id, placed.order.id or 0)
    assert event(shop, "evt_early", "payment_intent.succeeded", payment_id, placed.order.id or 0)


def test_event_types_the_shop_does_not_handle_are_ignored(shop: Shop) -> None:
    assert event(shop, "evt_c", "customer.created", None, 1) is False


# --- refunds ------------------------------------------------------------------------------


def test_a_refund_gives_the_money_back_once(shop: Shop) -> None:
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    order_id = placed.order.id or 0
    assert shop.orders.refund(order_id).status is REFUNDED
    assert shop.orders.refund(order_id).status is REFUNDED
    payment_id = placed.order.attempt.payment_id if placed.order.attempt else ""
    assert shop.gateway.refunded_cents(payment_id or "") == 5999


def test_only_a_paid_order_can_be_refunded(shop: Shop) -> None:
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_chargeDeclined")
    with pytest.raises(InvalidTransition):
        shop.orders.refund(placed.order.id or 0)


# --- reconciliation -----------------------------------------------------------------------


def test_reconcile_finds_a_payment_whose_answer_was_lost(shop: Shop) -> None:
    shop.gateway.fail_next_with(PaymentUnavailable, after_charging=True)
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    order_id = placed.order.id or 0
    shop.clock.advance(timedelta(minutes=10))
    report = shop.orders.reconcile(older_than=timedelta(minutes=5))
    assert report.settled == {order_id: PAID}
    assert len(shop.gateway.payments_for_order(order_id)) == 1


def test_reconcile_charges_an_order_stripe_never_saw_once(shop: Shop) -> None:
    shop.gateway.fail_next_with(PaymentUnavailable)
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    order_id = placed.order.id or 0
    assert shop.gateway.payments_for_order(order_id) == []
    shop.clock.advance(timedelta(minutes=10))
    shop.orders.reconcile(older_than=timedelta(minutes=5))
    shop.clock.advance(timedelta(minutes=10))  # a second run finds nothing more to do
    assert shop.orders.reconcile(older_than=timedelta(minutes=5)).settled == {}
    assert status_of(shop, order_id) is PAID
    assert len(shop.gateway.charges_for_order(order_id)) == 1


def test_reconcile_leaves_young_orders_and_unreachable_gateways_alone(shop: Shop) -> None:
    shop.gateway.fail_next_with(PaymentUnavailable)
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    assert shop.orders.reconcile(older_than=timedelta(minutes=5)).settled == {}
    shop.clock.advance(timedelta(minutes=10))
    shop.gateway.fail_next_with(PaymentUnavailable)
    report = shop.orders.reconcile(older_than=timedelta(minutes=5))
    assert report.unchanged == [placed.order.id]
    assert status_of(shop, placed.order.id or 0) is PENDING


def test_after_24_hours_an_order_stripe_never_charged_fails(shop: Shop) -> None:
    shop.gateway.fail_next_with(PaymentUnavailable)
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    shop.clock.advance(timedelta(hours=24, minutes=1))
    assert shop.orders.reconcile().settled == {placed.order.id: FAILED}
    assert shop.gateway.payments_for_order(placed.order.id or 0) == []


def test_after_24_hours_an_unauthenticated_payment_is_canceled_and_fails(shop: Shop) -> None:
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "pm_card_threeDSecure2Required")
    shop.clock.advance(timedelta(hours=25))
    assert shop.orders.reconcile().settled == {placed.order.id: FAILED}
    payment_id = placed.order.attempt.payment_id if placed.order.attempt else ""
    assert shop.gateway.retrieve(payment_id or "").state.value == "failed"


def test_an_order_leased_by_another_worker_is_skipped(shop: Shop) -> None:
    shop.gateway.fail_next_with(PaymentUnavailable)
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    order_id = placed.order.id or 0
    shop.clock.advance(timedelta(minutes=10))
    with shop.uow() as tx:  # another machine's reconcile holds the order
        tx.leases.lease(
            order_id, until=shop.clock.now() + timedelta(minutes=5), now=shop.clock.now()
        )
        tx.commit()
    report = shop.orders.reconcile(older_than=timedelta(minutes=5))
    assert order_id not in report.unchanged and order_id not in report.settled
    assert shop.gateway.payments_for_order(order_id) == []


# --- reconcile never starves and never guesses --------------------------------------------


def test_an_order_reconcile_cannot_settle_waits_longer_each_time_behind_the_others(
    shop: Shop,
) -> None:
    stuck = shop.orders.place_order(shop.user_id, shop.product_id, "pm_card_threeDSecure2Required")
    stuck_id = stuck.order.id or 0
    shop.clock.advance(timedelta(minutes=10))
    tried_at = []
    for _ in range(40):  # 40 runs, five minutes apart: 200 minutes
        report = shop.orders.reconcile(older_than=timedelta(minutes=5), limit=1)
        if stuck_id in report.unchanged:
            tried_at.append(shop.clock.now())
        shop.clock.advance(timedelta(minutes=5))
    gaps = [later - earlier for earlier, later in pairwise(tried_at)]
    assert gaps[:4] == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20),
                        timedelta(minutes=40)]
    assert status_of(shop, stuck_id) is PENDING


def test_a_charged_order_behind_a_full_batch_of_unsettled_ones_is_still_settled(
    shop: Shop,
) -> None:
    stuck = [
        shop.orders.place_order(shop.user_id, shop.product_id, "pm_card_threeDSecure2Required")
        .order.id
        for _ in range(3)
    ]
    shop.clock.advance(timedelta(minutes=1))
    shop.gateway.fail_next_with(PaymentUnavailable, after_charging=True)
    charged = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa").order.id or 0
    shop.clock.advance(timedelta(minutes=10))

    first = shop.orders.reconcile(older_than=timedelta(minutes=5), limit=3)
    shop.clock.advance(timedelta(minutes=1))
    second = shop.orders.reconcile(older_than=timedelta(minutes=5), limit=3)

    assert sorted(first.unchanged) == sorted(stuck)
    assert second.settled == {charged: PAID}


def test_after_24_hours_an_order_whose_payment_id_was_lost_is_found_at_the_gateway(
    shop: Shop,
) -> None:
    shop.gateway.fail_next_with(PaymentUnavailable, after_charging=True)
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    order_id = placed.order.id or 0
    assert placed.order.attempt is not None and placed.order.attempt.payment_id is None
    shop.clock.advance(timedelta(hours=25))

    assert shop.orders.reconcile().settled == {order_id: PAID}
    assert len(shop.gateway.charges_for_order(order_id)) == 1


def test_after_24_hours_reconcile_fails_no_order_while_the_gateway_cannot_be_asked(
    shop: Shop,
) -> None:
    shop.gateway.fail_next_with(PaymentUnavailable)
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    shop.clock.advance(timedelta(hours=25))
    shop.gateway.fail_next_with(PaymentUnavailable)

    report = shop.orders.reconcile()

    assert report.unchanged == [placed.order.id]
    assert status_of(shop, placed.order.id or 0) is PENDING


def test_after_24_hours_reconcile_ignores_another_orders_payment_of_the_same_order_id(
    shop: Shop,
) -> None:
    shop.gateway.fail_next_with(PaymentUnavailable)
    placed = shop.orders.place_order(shop.user_id, shop.product_id, "tok_visa")
    order_id = placed.order.id or 0
    # Another app on the account paid its own "order" with this id, another reference.
    shop.gateway.charge(Money(5999), "pm_card_visa", order_id=order_id,
                        idempotency_key="other-app", order_reference="not-this-order")
    shop.clock.advance(timedelta(hours=25))

    assert shop.orders.reconcile().settled == {order_id: FAILED}
