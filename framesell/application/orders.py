"""The order service: buying a photo and listing what a shopper bought."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from framesell.application.ports import (
    Clock,
    PaymentOutcome,
    PaymentResult,
    Payments,
    ProductCatalog,
    UnitOfWorkFactory,
)
from framesell.domain.errors import OrderNotFound
from framesell.domain.models import (
    Order,
    PaymentAttempt,
    PaymentStatus,
    ProductSnapshot,
)

_SETTLED_BY = {
    PaymentOutcome.PAID: PaymentStatus.PAID,
    PaymentOutcome.DECLINED: PaymentStatus.FAILED,
}


def new_order_reference() -> str:
    """A random, never-reused reference that payment idempotency keys derive from."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Placement:
    """An order as it stands after an attempt to pay for it, and how the attempt went."""

    order: Order
    outcome: PaymentOutcome
    message: str | None = None
    client_secret: str | None = None


class OrderService:
    """Places orders, saving each PENDING before any money moves."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        catalog: ProductCatalog,
        payments: Payments,
        clock: Clock,
        new_reference: Callable[[], str] = new_order_reference,
    ) -> None:
        self._uow = uow
        self._catalog = catalog
        self._payments = payments
        self._clock = clock
        self._new_reference = new_reference

    def place_order(self, user_id: int, product_id: int, payment_token: str) -> Placement:
        """Buy one product: save PENDING and commit, charge, then settle in a new transaction."""
        product = self._catalog.product_for_sale(product_id)
        order = self._save_pending(user_id, ProductSnapshot.of(product))
        assert order.id is not None and order.attempt is not None
        result = self._payments.pay(
            order.amount,
            payment_token,
            order_id=order.id,
            idempotency_key=order.attempt.idempotency_key,
        )
        return self._settle(order, result)

    def list_orders(self, user_id: int) -> list[Order]:
        """Return one shopper's orders, oldest first."""
        with self._uow() as uow:
            return uow.orders.list_for_user(user_id)

    def get_order(self, user_id: int, order_id: int) -> Order:
        """Return one of the shopper's orders; another shopper's is OrderNotFound too."""
        with self._uow() as uow:
            order = uow.orders.get(order_id)
        if order is None or order.user_id != user_id:
            raise OrderNotFound()
        return order

    def _save_pending(self, user_id: int, snapshot: ProductSnapshot) -> Order:
        pending = Order(
            id=None,
            user_id=user_id,
            product=snapshot,
            created_at=self._clock.now(),
            status=PaymentStatus.PENDING,
            reference=self._new_reference(),
        )
        with self._uow() as uow:
            order = uow.orders.add(pending)
            assert order.id is not None
            attempt = PaymentAttempt(number=1, idempotency_key=order.payment_key(1))
            uow.orders.record_attempt(order.id, attempt)
            uow.commit()
        return replace(order, attempt=attempt)

    def _settle(self, order: Order, result: PaymentResult) -> Placement:
        assert order.id is not None and order.attempt is not None
        target = _SETTLED_BY.get(result.outcome)
        with self._uow() as uow:
            if target is not None:
                # Compare-and-swap: a webhook may have settled the order meanwhile.
                uow.orders.transition(
                    order.id,
                    PaymentStatus.PENDING,
                    target,
                    payment_id=result.payment_id,
                    at=self._clock.now(),
                )
            elif result.payment_id is not None:
                uow.orders.record_attempt(
                    order.id, replace(order.attempt, payment_id=result.payment_id)
                )
            settled = uow.orders.get(order.id)
            uow.commit()
        assert settled is not None
        return Placement(settled, result.outcome, result.message, result.client_secret)
