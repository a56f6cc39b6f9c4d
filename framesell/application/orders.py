"""The order service: buying a photo, settling its payment, refunds and reconciliation."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from framesell.application.ports import (
    Clock,
    PaymentOutcome,
    PaymentResult,
    Payments,
    ProductCatalog,
    UnitOfWorkFactory,
)
from framesell.application.transactions import retrying
from framesell.application.users import ACCOUNT_GONE
from framesell.domain.errors import (
    InvalidTransition,
    NotAuthenticated,
    OrderNotFound,
    PaymentEventTooEarly,
    PaymentUnavailable,
)
from framesell.domain.models import (
    Order,
    OrderSummary,
    PaymentAttempt,
    PaymentStatus,
    ProductSnapshot,
)
from framesell.domain.records import PaymentEvent

log = logging.getLogger(__name__)

_SETTLED_BY = {
    PaymentOutcome.PAID: PaymentStatus.PAID,
    PaymentOutcome.DECLINED: PaymentStatus.FAILED,
}
_OUTCOME_OF = {
    PaymentStatus.PAID: PaymentOutcome.PAID,
    PaymentStatus.FAILED: PaymentOutcome.DECLINED,
    PaymentStatus.REFUNDED: PaymentOutcome.REFUNDED,
    PaymentStatus.PENDING: PaymentOutcome.PENDING,
}

AfterCharge = Callable[[Order, PaymentResult], None]


def new_order_reference() -> str:
    """A random, never-reused reference that payment idempotency keys derive from."""
    return uuid.uuid4().hex


def no_fault(order: Order, result: PaymentResult) -> None:
    """The default after-charge hook: nothing happens between charge and settle."""


@dataclass(frozen=True)
class Placement:
    """An order as it stands after an attempt to pay for it, and how the attempt went."""

    order: Order
    outcome: PaymentOutcome
    message: str | None = None
    client_secret: str | None = None


@dataclass
class ReconcileReport:
    """What one reconciliation run did, order by order."""

    settled: dict[int, PaymentStatus] = field(default_factory=dict)
    unchanged: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # leased by another worker


class OrderService:
    """Places orders, saving each PENDING before any money moves, and settles them."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        catalog: ProductCatalog,
        payments: Payments,
        clock: Clock,
        new_reference: Callable[[], str] = new_order_reference,
        after_charge: AfterCharge = no_fault,
    ) -> None:
        self._uow = uow
        self._catalog = catalog
        self._payments = payments
        self._clock = clock
        self._new_reference = new_reference
        # A fault point for tests that kill the process between charge and settle.
        self._after_charge = after_charge

    # --- buying ---------------------------------------------------------------------------

    def place_order(
        self, user_id: int, product_id: int, payment_token: str, *, request_key: str | None = None
    ) -> Placement:
        """Buy one product: save PENDING and commit, charge, then settle in a new transaction.

        With ``request_key`` (a client's Idempotency-Key) the order is linked to the key in
        the transaction that creates it, so a retry resumes this order instead of making one.
        """
        product = self._catalog.product_for_sale(product_id)
        order = self._save_pending(user_id, ProductSnapshot.of(product), payment_token, request_key)
        return self._charge(order)

    def resume(self, user_id: int, order_id: int) -> Placement:
        """Continue an order whose first request stopped before answering (same payment key)."""
        order = self.get_order(user_id, order_id)
        if order.status is not PaymentStatus.PENDING or order.attempt is None:
            return Placement(order, _OUTCOME_OF[order.status])
        if order.attempt.payment_id is not None:
            return self._check(order)
        return self._charge(order)

    def confirm(self, user_id: int, order_id: int) -> Placement:
        """After 3-D Secure: ask the gateway how the payment stands and settle the order."""
        order = self.get_order(user_id, order_id)
        if order.status is not PaymentStatus.PENDING:
            return Placement(order, _OUTCOME_OF[order.status])
        if order.attempt is None or order.attempt.payment_id is None:
            return self.resume(user_id, order_id)
        return self._check(order)

    # --- reading --------------------------------------------------------------------------

    def list_orders(self, user_id: int) -> list[Order]:
        """Return one shopper's orders, oldest first."""
        with self._uow() as uow:
            return uow.orders.list_for_user(user_id)

    def list_orders_of_account(self, user_id: int) -> list[OrderSummary]:
        """The orders of the account a token named, as its list shows them, oldest first.

        One query for what ``UserService.authenticate`` then ``list_orders`` would read:
        NotAuthenticated if the account no longer exists.
        """
        with self._uow() as uow:
            found = uow.orders.list_for_account(user_id)
        if found is None:
            raise NotAuthenticated(ACCOUNT_GONE)
        return found

    def get_order(self, user_id: int, order_id: int) -> Order:
        """Return one of the shopper's orders; another shopper's is OrderNotFound too."""
        with self._uow() as uow:
            order = uow.orders.get(order_id)
        if order is None or order.user_id != user_id:
            raise OrderNotFound()
        return order

    # --- events, refunds, reconciliation --------------------------------------------------

    def apply_payment_event(self, event: PaymentEvent) -> bool:
        """Apply a gateway event once; True if it changed an order.

        Only the order's current attempt can be moved, only forward; a repeated, stale or
        out-of-order event changes nothing. An event for an order not visible yet raises
        PaymentEventTooEarly without recording it, so the sender retries.
        """
        kind = event.kind
        if kind is None:
            return False
        now = self._clock.now()
        for transaction in retrying(self._uow):
            with transaction as uow:
                order = (
                    uow.orders.find_by_payment_id(event.payment_id) if event.payment_id else None
                )
                if order is None and event.order_id is not None:
                    order = uow.orders.get(event.order_id)
                if order is None or order.id is None:
                    raise PaymentEventTooEarly()
                if not uow.payment_events.add(event.id, event.type, now):
                    return False  # applied before
                order_id = order.id
                changed = uow.orders.transition(
                    order_id, kind.source, kind.target, payment_id=event.payment_id, at=now
                )
                uow.commit()
        log.info(
            "payment event %s (%s) for order %s: %s",
            event.id,
            event.type,
            order_id,
            "applied" if changed else "no change",
        )
        return changed

    def refund(self, order_id: int) -> Order:
        """Give a paid order's money back in full; a repeat refunds nothing more."""
        with self._uow() as uow:
            order = uow.orders.get(order_id)
        if order is None or order.id is None:
            raise OrderNotFound()
        if order.status is PaymentStatus.REFUNDED:
            return order
        paid = order.status is PaymentStatus.PAID
        if not paid or order.attempt is None or order.attempt.payment_id is None:
            raise InvalidTransition(f"only a paid order can be refunded, not {order.status.value}")
        result = self._payments.refund(
            order.attempt.payment_id, idempotency_key=f"{order.attempt.idempotency_key}-refund"
        )
        if result.outcome is not PaymentOutcome.REFUNDED:
            raise PaymentUnavailable(result.message or PaymentUnavailable.message)
        for transaction in retrying(self._uow):
            with transaction as uow:
                uow.orders.transition(
                    order.id,
                    PaymentStatus.PAID,
                    PaymentStatus.REFUNDED,
                    payment_id=order.attempt.payment_id,
                    at=self._clock.now(),
                )
                refunded = uow.orders.get(order.id)
                uow.commit()
        assert refunded is not None
        return refunded

    def reconcile(
        self,
        *,
        older_than: timedelta = timedelta(minutes=5),
        give_up_after: timedelta = timedelta(hours=24),
        limit: int = 100,
        lease_for: timedelta = timedelta(minutes=5),
    ) -> ReconcileReport:
        """Settle PENDING orders older than ``older_than`` from the gateway's truth.

        Each order is leased first (compare-and-swap), so several workers on several
        machines never work on the same order at once. An order the gateway never charged
        becomes FAILED after ``give_up_after`` (Stripe keeps idempotency keys 24 hours, so
        after that a repeated create call could charge anew).
        """
        now = self._clock.now()
        report = ReconcileReport()
        with self._uow() as uow:
            candidates = uow.orders.list_pending_since(now - older_than, limit)
        for order in candidates:
            assert order.id is not None
            for transaction in retrying(self._uow):
                with transaction as uow:
                    leased = uow.leases.lease(order.id, until=now + lease_for, now=now)
                    uow.commit()
            if not leased:
                report.skipped.append(order.id)
                continue
            settled = self._reconcile_one(order, too_old=now - order.created_at >= give_up_after)
            if settled.order.status is PaymentStatus.PENDING:
                report.unchanged.append(order.id)
            else:
                report.settled[order.id] = settled.order.status
        return report

    # --- the steps ------------------------------------------------------------------------

    def _reconcile_one(self, order: Order, *, too_old: bool) -> Placement:
        attempt = order.attempt
        if attempt is not None and attempt.payment_id is not None:
            placement = self._check(order)
            if too_old and placement.order.status is PaymentStatus.PENDING:
                return self._abandon(order, attempt.payment_id)
            return placement
        if too_old or attempt is None or attempt.payment_token is None:
            # Never charged as far as anyone can tell, and the key may have expired.
            return self._apply(order, PaymentResult(PaymentOutcome.DECLINED, None, "abandoned"))
        return self._charge(order)  # the same call under the same key: never a second charge

    def _abandon(self, order: Order, payment_id: str) -> Placement:
        assert order.attempt is not None
        result = self._payments.cancel(
            payment_id, idempotency_key=f"{order.attempt.idempotency_key}-cancel"
        )
        # A payment that succeeded after all is PAID, never FAILED.
        return self._apply(order, result)

    def _save_pending(
        self,
        user_id: int,
        snapshot: ProductSnapshot,
        payment_token: str,
        request_key: str | None,
    ) -> Order:
        pending = Order(
            id=None,
            user_id=user_id,
            product=snapshot,
            created_at=self._clock.now(),
            status=PaymentStatus.PENDING,
            reference=self._new_reference(),
        )
        # The first attempt's key derives from the reference, so it is stored with the order.
        attempt = PaymentAttempt(
            number=1, idempotency_key=pending.payment_key(1), payment_token=payment_token
        )
        for transaction in retrying(self._uow):
            with transaction as uow:
                order = uow.orders.add(replace(pending, attempt=attempt))
                assert order.id is not None
                if request_key is not None:
                    uow.request_keys.attach_order(user_id, request_key, order.id)
                uow.commit()
        return order

    def _charge(self, order: Order) -> Placement:
        assert order.id is not None and order.attempt is not None
        assert order.attempt.payment_token is not None
        # No transaction is open here: the order is committed PENDING, money moves now.
        result = self._payments.pay(
            order.amount,
            order.attempt.payment_token,
            order_id=order.id,
            idempotency_key=order.attempt.idempotency_key,
        )
        self._after_charge(order, result)
        return self._apply(order, result)

    def _check(self, order: Order) -> Placement:
        assert order.attempt is not None and order.attempt.payment_id is not None
        return self._apply(order, self._payments.status(order.attempt.payment_id))

    def _apply(self, order: Order, result: PaymentResult) -> Placement:
        """Settle in a second short transaction, as a compare-and-swap on the status."""
        assert order.id is not None and order.attempt is not None
        target = _SETTLED_BY.get(result.outcome)
        for transaction in retrying(self._uow):
            with transaction as uow:
                if target is not None:
                    # A webhook or another process may have settled the order meanwhile.
                    uow.orders.transition(
                        order.id,
                        PaymentStatus.PENDING,
                        target,
                        payment_id=result.payment_id,
                        at=self._clock.now(),
                    )
                elif result.payment_id is not None and order.attempt.payment_id is None:
                    uow.orders.record_attempt(
                        order.id, replace(order.attempt, payment_id=result.payment_id)
                    )
                settled = uow.orders.get(order.id)
                uow.commit()
        assert settled is not None
        return Placement(settled, result.outcome, result.message, result.client_secret)
