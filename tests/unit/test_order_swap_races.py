"""Settling an order that another process changed between the read and the compare-and-swap.

The order service moves an order with a compare-and-swap on its status and refunded amount.
When the swap loses (another process moved the order first), it reads the order again: if
the order's recorded payment is still the one the event names, it settles again from there;
if another attempt's payment has meanwhile become the order's, the stale payment moves
nothing. Another process is played here by changing the stored order just before the swap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from framesell.adapters.memory import MemoryUnitOfWork, MemoryUnitOfWorkFactory
from framesell.domain.models import Order, PaymentAttempt, PaymentStatus
from framesell.domain.payments import PaymentState
from framesell.domain.records import PaymentEvent
from tests.unit.test_order_events_edges import PAID, PRICE, Shop, make_shop, payment

PARTIALLY_REFUNDED = PaymentStatus.PARTIALLY_REFUNDED
REFUNDED_EVENT = "charge.refunded"


def first_swap_loses_to(shop: Shop, change: Callable[[Order], Order]) -> None:
    """Just before the first compare-and-swap, another process commits ``change``."""
    factory: MemoryUnitOfWorkFactory = shop.uow
    state = {"done": False}

    class Racing(MemoryUnitOfWorkFactory):
        def __call__(self) -> MemoryUnitOfWork:
            uow = factory()
            settle = uow.orders.settle

            def settle_after_another(order_id: int, **fields: object) -> bool:
                if not state["done"]:
                    state["done"] = True
                    tables = factory.store.tables
                    tables.orders[order_id] = change(tables.orders[order_id])
                return settle(order_id, **fields)  # type: ignore[arg-type]

            uow.orders.settle = settle_after_another  # type: ignore[method-assign]
            return uow

    racing = Racing(factory.store)
    shop.orders._uow = racing  # the service's one unit-of-work factory
    shop.uow = racing


def test_a_refund_that_loses_the_swap_to_an_earlier_refund_settles_again_from_it() -> None:
    shop = make_shop()
    order = shop.add_order(PAID)
    shop.answer(payment(PaymentState.SUCCEEDED, refunded_cents=3000))
    first_swap_loses_to(
        shop, lambda stored: replace(stored, status=PARTIALLY_REFUNDED, refunded_cents=1000)
    )

    assert shop.orders.apply_payment_event(PaymentEvent("evt_2", REFUNDED_EVENT, "pi_1", order.id))

    settled = shop.order(order.id)
    assert (settled.status, settled.refunded_cents) == (PARTIALLY_REFUNDED, 3000)


def test_a_stale_attempts_payment_that_loses_the_swap_moves_nothing() -> None:
    shop = make_shop()
    order = shop.add_order(PAID)
    assert order.attempt is not None
    shop.answer(payment(PaymentState.SUCCEEDED, refunded_cents=PRICE.cents))
    newer = PaymentAttempt(2, "ref-1-attempt-2", payment_id="pi_2", payment_token="tok_visa")
    first_swap_loses_to(
        shop,
        lambda stored: replace(
            stored, status=PARTIALLY_REFUNDED, refunded_cents=500, attempt=newer
        ),
    )

    # pi_1 was the order's payment when the event was read, no longer when it is applied.
    shop.orders.apply_payment_event(PaymentEvent("evt_3", REFUNDED_EVENT, "pi_1", order.id))

    settled = shop.order(order.id)
    assert (settled.status, settled.refunded_cents) == (PARTIALLY_REFUNDED, 500)
    assert settled.attempt == newer
