"""Whatever order a payment's events arrive in, late or twice, the order ends as Stripe says.

A property-based test: Hypothesis plays a payment's life at the (fake) gateway — 3-D Secure
passed or failed, the shopper paying again with the client secret, partial and full refunds
made in the dashboard, a cancel whose answer is lost — and, interleaved with it, delivers the
events each step emitted in any order, with duplicates and delays, and calls /confirm/ and
reconcile at random moments. After everything was delivered, the order's status and refunded
amount must be what the gateway's final state says.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framesell.adapters.fake_payments import FakePaymentGateway
from framesell.adapters.memory import FixedClock, MemoryUnitOfWorkFactory
from framesell.application.catalog import CatalogService
from framesell.application.orders import OrderService
from framesell.application.payments import PaymentService
from framesell.domain.errors import PaymentError, PaymentUnavailable
from framesell.domain.models import PaymentStatus, User, charged_status
from framesell.domain.money import Money
from framesell.domain.payments import Payment, PaymentState
from framesell.domain.records import PaymentEvent

PRICE = 10_000
STEPS = st.lists(
    st.one_of(
        st.just(("authenticate", True)),
        st.just(("authenticate", False)),
        st.just(("pay_again", None)),
        st.tuples(st.just("refund"), st.integers(min_value=1, max_value=PRICE)),
        st.just(("refund", PRICE)),
    ),
    max_size=6,
)


def expected(payment: Payment) -> tuple[PaymentStatus, int]:
    """The order's status and refunded amount that the gateway's state means."""
    if payment.charged:
        return charged_status(PRICE, payment.refunded_cents), payment.refunded_cents
    if payment.state is PaymentState.FAILED:
        return PaymentStatus.FAILED, 0
    return PaymentStatus.PENDING, 0


class World:
    """One shop on memory adapters and one gateway, with the events the gateway emitted."""

    def __init__(self, lose_cancels: bool) -> None:
        self.clock = FixedClock()
        self.gateway = FakePaymentGateway(now=self.clock.now)
        if lose_cancels:  # Stripe never answers a cancel: the payment stays confirmable
            def cancel_lost(*args: Any, **kwargs: Any) -> Payment:
                raise PaymentUnavailable("timed out")

            self.gateway.cancel = cancel_lost  # type: ignore[method-assign]
        uow = MemoryUnitOfWorkFactory()
        catalog = CatalogService(uow)
        self.orders = OrderService(uow, catalog, PaymentService(self.gateway), self.clock)
        with uow() as tx:
            user = tx.users.add(User(None, "any-order@example.com", "A", "B", "hash"))
            tx.commit()
        self.user_id = user.id or 0
        product = catalog.add_product("Bridge", "https://x.example/b.jpg", Money(PRICE))
        placed = self.orders.place_order(
            self.user_id, product.id or 0, "pm_card_threeDSecure2Required"
        )
        assert placed.order.attempt is not None and placed.order.attempt.payment_id
        self.order_id = placed.order.id or 0
        self.payment_id = placed.order.attempt.payment_id
        self.emitted: list[PaymentEvent] = []
        # The payment as it stood after each step, for answers that arrive after a newer one.
        self.snapshots: list[Payment] = [self.gateway.retrieve(self.payment_id)]
        self.emitted_at: dict[str, int] = {}

    def emit(self, kind: str) -> None:
        """The gateway sends an event about the payment (delivered whenever the test says)."""
        number = len(self.emitted)
        self.emitted.append(PaymentEvent(f"evt_{number}", kind, self.payment_id, self.order_id))
        # The first snapshot a read prompted by this event can see: the one after this step.
        self.emitted_at[f"evt_{number}"] = len(self.snapshots)

    def step(self, action: str, argument: Any) -> None:
        """One thing that happens at the gateway; what the gateway refuses does not happen."""
        try:
            if action == "authenticate":
                paid = self.gateway.complete_authentication(self.payment_id, succeed=argument)
                self.emit(
                    "payment_intent.succeeded"
                    if paid.state is PaymentState.SUCCEEDED
                    else "payment_intent.payment_failed"
                )
            elif action == "pay_again":
                self.gateway.pay_again_with_secret(self.payment_id)
                self.emit("payment_intent.succeeded")
            else:
                left = PRICE - self.gateway.retrieve(self.payment_id).refunded_cents
                self.gateway.refund_elsewhere(self.payment_id, min(argument, left))
                self.emit("charge.refunded")
        except (PaymentError, ValueError):
            pass  # e.g. a refund of a payment that took nothing, or of nothing left
        self.snapshots.append(self.gateway.retrieve(self.payment_id))

    def with_answer(self, snapshot: Payment, call: Any) -> None:
        """Run ``call`` while the gateway answers what it said earlier (a slow request whose
        answer arrives after newer ones were applied)."""
        real_retrieve = self.gateway.retrieve
        self.gateway.retrieve = lambda payment_id: snapshot  # type: ignore[method-assign]
        try:
            call()
        finally:
            self.gateway.retrieve = real_retrieve  # type: ignore[method-assign]

    def deliver(self, event: PaymentEvent) -> None:
        """Stripe delivers an event (the shop answers 2xx or Stripe delivers it again)."""
        self.orders.apply_payment_event(event)

    def poke(self, what: str) -> None:
        """The shopper's browser confirms, or a reconcile run passes by."""
        if what == "confirm":
            self.orders.confirm(self.user_id, self.order_id)
        else:
            self.clock.advance(timedelta(minutes=10))
            self.orders.reconcile(older_than=timedelta(minutes=5))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS, lose_cancels=st.booleans(), data=st.data())
def test_every_ordering_of_a_payments_events_ends_in_the_gateways_state(
    steps: list[tuple[str, Any]], lose_cancels: bool, data: st.DataObject
) -> None:
    world = World(lose_cancels)
    remaining = list(steps)
    while remaining or data.draw(st.booleans(), label="act again"):
        choices = ["step"] if remaining else []
        if world.emitted:
            choices += ["deliver", "deliver slowly"]
        choices += ["confirm", "confirm slowly", "reconcile"]
        choice = data.draw(st.sampled_from(choices), label="next")
        if choice == "step":
            world.step(*remaining.pop(0))
        elif choice == "deliver":  # any event emitted so far, again or for the first time
            world.deliver(data.draw(st.sampled_from(world.emitted), label="event"))
        elif choice == "deliver slowly":  # read after the event was sent, applied late
            event = data.draw(st.sampled_from(world.emitted), label="event")
            seen = world.snapshots[world.emitted_at[event.id]:]
            answer = data.draw(st.sampled_from(seen), label="answer")
            world.with_answer(answer, lambda chosen=event: world.deliver(chosen))
        elif choice == "confirm slowly":  # Stripe's answer read before later steps
            answer = data.draw(st.sampled_from(world.snapshots), label="answer")
            world.with_answer(answer, lambda: world.poke("confirm"))
        else:
            world.poke(choice)
    # Stripe delivers every event at least once, in any order, late.
    for event in data.draw(st.permutations(world.emitted), label="late deliveries"):
        world.deliver(event)

    order = world.orders.get_order(world.user_id, world.order_id)
    payment = world.gateway.retrieve(world.payment_id)
    if payment.state is PaymentState.REQUIRES_ACTION and not world.emitted:
        return  # nothing happened at the gateway: nothing to deliver, the order waits
    assert (order.status, order.refunded_cents) == expected(payment), (steps, world.emitted)
