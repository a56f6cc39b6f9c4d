"""The order service: buying a photo, settling its payment, refunds and reconciliation."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from framesell.application.errors import PaymentEventTooEarly
from framesell.application.mail import MailOutbox
from framesell.application.ports import (
    Clock,
    OrderListVersions,
    PaymentOutcome,
    PaymentResult,
    Payments,
    ProductCatalog,
    UnitOfWorkFactory,
)
from framesell.application.transactions import retrying
from framesell.application.users import ACCOUNT_GONE
from framesell.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotAuthenticated,
    OrderNotFound,
    PaymentUnavailable,
)
from framesell.domain.models import (
    CHARGED_STATUSES,
    MAX_ORDER_LINES,
    MAX_QUANTITY,
    CartLine,
    DisputeStatus,
    FormatKind,
    Order,
    OrderItem,
    OrderList,
    OrderSearch,
    PaymentAttempt,
    PaymentStatus,
    Product,
    ProductSnapshot,
    ShippingAddress,
    ShopperOrder,
    normalize_email,
)
from framesell.domain.money import Money
from framesell.domain.payments import Payment, PaymentState
from framesell.domain.records import PaymentEvent

log = logging.getLogger(__name__)

_OUTCOME_OF = {
    PaymentStatus.PAID: PaymentOutcome.PAID,
    PaymentStatus.FAILED: PaymentOutcome.DECLINED,
    PaymentStatus.PARTIALLY_REFUNDED: PaymentOutcome.REFUNDED,
    PaymentStatus.REFUNDED: PaymentOutcome.REFUNDED,
    PaymentStatus.PENDING: PaymentOutcome.PENDING,
}
# The longest a PENDING order that cannot be settled waits between reconcile tries.
MAX_RECONCILE_BACKOFF = timedelta(hours=6)
# Clocks differ: the gateway's creation times are searched a little beyond the order's.
LOOKUP_SLACK = timedelta(minutes=5)

AfterCharge = Callable[[Order, PaymentResult], None]
# The owner's order list: how many orders a page holds unless asked, and at most.
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_SEARCH_LENGTH = 254


def order_search(
    *, status: str = "", query: str = "", page: str = "1", per_page: str = ""
) -> OrderSearch:
    """Read the owner's search as typed (query string values); InvalidInput when unusable.

    ``query`` is an order id (``123`` or ``#123``) or the start of a shopper's email.
    """
    found = OrderSearch(page=_whole(page or "1", "page"), per_page=DEFAULT_PER_PAGE)
    if per_page:
        found = replace(found, per_page=_whole(per_page, "per_page"))
        if found.per_page > MAX_PER_PAGE:
            raise InvalidInput(f"per_page is at most {MAX_PER_PAGE}", field="per_page")
    if status:
        try:
            found = replace(found, status=PaymentStatus(status.strip().upper()))
        except ValueError:
            known = ", ".join(s.value for s in PaymentStatus)
            raise InvalidInput(f"status must be one of {known}", field="status") from None
    text = query.strip()
    if len(text) > MAX_SEARCH_LENGTH:
        raise InvalidInput(f"q is at most {MAX_SEARCH_LENGTH} characters", field="q")
    number = text.removeprefix("#")
    if number.isdecimal() and number.isascii() and len(number) <= 18:
        found = replace(found, order_id=int(number))
    elif text:
        found = replace(found, email_prefix=normalize_email(text))
    return found


def _whole(raw: str, name: str) -> int:
    text = raw.strip()
    if not (text.isdecimal() and text.isascii() and len(text) <= 9) or int(text) < 1:
        raise InvalidInput(f"{name} must be a whole number from 1", field=name)
    return int(text)


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


@dataclass(frozen=True)
class Purchase:
    """What a shopper asks to buy in one order: the cart's lines and, for prints, where to."""

    lines: tuple[CartLine, ...]
    shipping: ShippingAddress | None = None


@dataclass(frozen=True)
class OrderPage:
    """One page of the owner's order list and how many orders match in all."""

    orders: list[ShopperOrder]
    total: int
    page: int
    per_page: int


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
        *,
        livemode: bool = False,
        shipping_price: Money | None = None,
        mail: MailOutbox | None = None,
        list_versions: OrderListVersions | None = None,
    ) -> None:
        self._uow = uow
        # Order list versions read alone (one statement, no transaction); by default through
        # a unit of work of their own.
        self._list_versions = list_versions
        # The flat price added once to every order that ships prints.
        self._shipping_price = shipping_price if shipping_price is not None else Money(0)
        self._catalog = catalog
        self._payments = payments
        self._clock = clock
        self._new_reference = new_reference
        # A fault point for tests that kill the process between charge and settle.
        self._after_charge = after_charge
        # Whether the gateway account is live (events of the other mode are not ours).
        self._livemode = livemode
        # Order mails are queued in the transaction that moves the order, sent after it.
        self._mail = mail

    # --- buying ---------------------------------------------------------------------------

    def place_order(
        self, user_id: int, product_id: int, payment_token: str, *, request_key: str | None = None
    ) -> Placement:
        """Buy one product: save PENDING and commit, charge, then settle in a new transaction.

        With ``request_key`` (a client's Idempotency-Key) the order is linked to the key in
        the transaction that creates it, so a retry resumes this order instead of making one.
        """
        return self.place_cart(
            user_id, [CartLine(product_id)], payment_token, request_key=request_key
        )

    def place_cart(
        self,
        user_id: int,
        lines: list[CartLine],
        payment_token: str,
        shipping: ShippingAddress | None = None,
        *,
        request_key: str | None = None,
    ) -> Placement:
        """Buy a cart in one order and one payment: its lines at today's catalog prices,
        plus the flat shipping price when a print is in it (then ``shipping`` is required).

        Lines of the same photo and format are added up; a digital download is bought once.
        The total is computed here, from the store, never taken from the client.
        """
        draft = self.price_cart(lines, shipping)
        order = self._save_pending(user_id, draft, payment_token, request_key)
        return self._charge(order)

    def price_cart(self, lines: list[CartLine], shipping: ShippingAddress | None) -> Order:
        """The order a cart makes (not stored): its lines, snapshot, shipping and total.

        InvalidInput for an empty or oversized cart, a bad quantity, an unknown format, a
        print without an address; ProductNotFound for a photo not on sale.
        """
        if not lines:
            raise InvalidInput("the cart is empty", field="items")
        if len(lines) > MAX_ORDER_LINES:
            raise InvalidInput(
                f"an order holds at most {MAX_ORDER_LINES} lines", field="items"
            )
        merged: dict[tuple[int, int | None], int] = {}
        products: dict[int, Product] = {}
        for line in lines:
            if not 1 <= line.quantity <= MAX_QUANTITY:
                raise InvalidInput(
                    f"a quantity is a whole number from 1 to {MAX_QUANTITY}", field="quantity"
                )
            product = products.get(line.product_id)
            if product is None:
                product = products[line.product_id] = self._catalog.product_for_sale(
                    line.product_id
                )
            chosen = product.format(line.format_id)
            key = (line.product_id, chosen.id)
            merged[key] = merged.get(key, 0) + line.quantity
        items: list[OrderItem] = []
        for (product_id, format_id), quantity in merged.items():
            product = products[product_id]
            chosen = product.format(format_id)
            if chosen.kind is FormatKind.DIGITAL and quantity != 1:
                raise InvalidInput("a digital download is bought once", field="quantity")
            if quantity > MAX_QUANTITY:
                raise InvalidInput(
                    f"a quantity is a whole number from 1 to {MAX_QUANTITY}", field="quantity"
                )
            assert product.id is not None
            items.append(
                OrderItem(
                    id=len(items) + 1,
                    product_id=product.id,
                    description=product.description,
                    url=product.url,
                    format_id=chosen.id,
                    kind=chosen.kind,
                    label=chosen.label,
                    quantity=quantity,
                    price=chosen.price,
                )
            )
        currencies = {item.price.currency for item in items}
        if len(currencies) != 1:
            raise InvalidInput("an order is paid in one currency", field="items")
        ships = any(item.kind is FormatKind.PRINT for item in items)
        if ships and shipping is None:
            raise InvalidInput("a shipping address is required for prints", field="shipping")
        first = items[0]
        return Order(
            id=None,
            user_id=0,
            product=ProductSnapshot(first.product_id, first.description, first.url, first.price),
            created_at=self._clock.now(),
            items=tuple(items),
            shipping=shipping if ships else None,
            shipping_price=(
                Money(self._shipping_price.cents, first.price.currency) if ships else None
            ),
        )

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

    def list_orders_of_account(self, user_id: int) -> OrderList:
        """The orders of the account a token named, as its list shows them, oldest first,
        with the list's version.

        One query for the account and its orders: NotAuthenticated if the account no longer
        exists.
        """
        with self._uow() as uow:
            found = uow.orders.order_list(user_id)
        if found is None:
            raise NotAuthenticated(ACCOUNT_GONE)
        return found

    def order_list_version(self, user_id: int) -> int:
        """The version of the account's order list, one primary-key read: whatever was
        derived from a list of this version is still current. NotAuthenticated if the
        account no longer exists."""
        if self._list_versions is not None:
            version = self._list_versions.version_of(user_id)
        else:
            with self._uow() as uow:
                version = uow.orders.list_version(user_id)
        if version is None:
            raise NotAuthenticated(ACCOUNT_GONE)
        return version

    def search_orders(self, search: OrderSearch) -> OrderPage:
        """Every shopper's orders for the owner, newest first, one page at a time."""
        with self._uow() as uow:
            found, total = uow.orders.search(search)
        return OrderPage(found, total, search.page, search.per_page)

    def get_order(self, user_id: int, order_id: int) -> Order:
        """Return one of the shopper's orders; another shopper's is OrderNotFound too."""
        with self._uow() as uow:
            order = uow.orders.get(order_id)
        if order is None or order.user_id != user_id:
            raise OrderNotFound()
        return order

    # --- events, refunds, reconciliation --------------------------------------------------

    def apply_payment_event(self, event: PaymentEvent) -> bool:
        """Apply a gateway event; True if it changed an order.

        The event only names a payment: its state is read from the gateway, and the order is
        moved towards it (forward only), so events may come late, twice or in any order and
        the order still ends as the gateway says. An event for a payment the shop did not
        make is ignored (INFO); one whose payment, amount, currency or mode does not match
        the order it names is not applied (WARNING). While the gateway cannot be asked the
        event is not recorded and PaymentEventTooEarly (503) makes the sender retry.
        """
        kind = event.kind
        if kind is None:
            return False
        if event.livemode is not None and event.livemode != self._livemode:
            log.warning(
                "payment event %s (%s) is from %s mode, the shop runs in %s mode: not applied",
                event.id, event.type, _mode(event.livemode), _mode(self._livemode),
            )
            return False
        with self._uow() as uow:
            if uow.payment_events.contains(event.id):
                return False  # applied before
            order = uow.orders.find_by_payment_id(event.payment_id) if event.payment_id else None
            if order is None and event.order_id is not None:
                order = uow.orders.get(event.order_id)
        if order is None or order.id is None or event.payment_id is None:
            log.info(
                "payment event %s (%s) for payment %s is not for an order of this shop: ignored",
                event.id, event.type, event.payment_id,
            )
            return False
        known = order.attempt.payment_id if order.attempt else None
        if known is not None and known != event.payment_id:
            log.warning(
                "payment event %s (%s) names order %s but payment %s, not the order's %s:"
                " not applied",
                event.id, event.type, order.id, event.payment_id, known,
            )
            return False
        if kind.about_a_dispute:
            changed = self._record_dispute(order, event)
        else:
            result = self._payments.status(event.payment_id)
            if result.payment is None:
                raise PaymentEventTooEarly()  # not recorded: the sender delivers it again
            if not self._belongs(order, result.payment):
                log.warning(
                    "payment event %s (%s): payment %s does not match order %s"
                    " (its payment, amount or currency differs): not applied",
                    event.id, event.type, event.payment_id, order.id,
                )
                self._remember_event(event)
                return False
            changed = self._settle_from(order, result.payment).status is not order.status
        self._remember_event(event)
        log.info(
            "payment event %s (%s) for order %s: %s",
            event.id, event.type, order.id, "applied" if changed else "no change",
        )
        return changed

    def refund(self, order_id: int, amount: Money | None = None) -> Order:
        """Give back ``amount`` of a paid order, or all that is left when None.

        The gateway is asked first what it already gave back (a refund made in its
        dashboard), so the rest is what is really left; more than that is
        InvalidTransition (409). A repeated full refund of a refunded order refunds nothing.
        Each refund's idempotency key derives from the order and the amount refunded so far.
        """
        with self._uow() as uow:
            order = uow.orders.get(order_id)
        if order is None or order.id is None:
            raise OrderNotFound()
        payment_id = order.attempt.payment_id if order.attempt else None
        attempt = order.attempt
        if order.status not in CHARGED_STATUSES or attempt is None or payment_id is None:
            raise InvalidTransition(f"only a paid order can be refunded, not {order.status.value}")
        if amount is not None and amount.currency != order.amount.currency:
            raise InvalidInput("a refund is in the order's currency", field="amount")
        current = self._payments.status(payment_id)
        if current.payment is None:
            raise PaymentUnavailable(current.message or PaymentUnavailable.message)
        order = self._settle_from(order, current.payment)
        left = order.amount.cents - order.refunded_cents
        if amount is None and left == 0:
            return order
        if amount is not None and amount.cents > left:
            raise InvalidTransition(
                f"only {Money(left, order.amount.currency).major} is left to refund"
            )
        result = self._payments.refund(
            payment_id,
            amount=amount,
            idempotency_key=(
                f"{attempt.idempotency_key}-refund-after-{order.refunded_cents}"
            ),
        )
        if result.payment is None:
            raise PaymentUnavailable(result.message or PaymentUnavailable.message)
        return self._settle_from(order, result.payment)

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
        machines never work on the same order at once. An order that cannot be settled now
        is postponed with a growing backoff (``lease_for`` doubled per try, at most six
        hours) and comes after the orders tried less often, so it never starves them. An
        order with no recorded payment is looked up at the gateway before it is failed
        after ``give_up_after`` (Stripe keeps idempotency keys 24 hours).
        """
        now = self._clock.now()
        report = ReconcileReport()
        with self._uow() as uow:
            candidates = uow.orders.list_pending_since(now - older_than, limit, now=now)
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
                wait = min(lease_for * 2**order.reconcile_attempts, MAX_RECONCILE_BACKOFF)
                for transaction in retrying(self._uow):
                    with transaction as uow:
                        uow.leases.postpone(order.id, until=now + wait)
                        uow.commit()
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
        if not too_old and attempt is not None and attempt.payment_token is not None:
            return self._charge(order)  # the same call under the same key: never a second charge
        return self._look_up_then_fail(order)

    def _look_up_then_fail(self, order: Order) -> Placement:
        """Before failing an order with no known payment, ask the gateway for one."""
        assert order.id is not None and order.attempt is not None
        found = self._payments.find_for_order(
            order.id,
            created_from=order.created_at - LOOKUP_SLACK,
            created_until=self._clock.now() + LOOKUP_SLACK,
        )
        if found is None:  # the gateway cannot say now: try again later
            return Placement(order, PaymentOutcome.UNAVAILABLE)
        ours = [p for p in found if self._belongs(order, p, unreferenced_ok=True)]
        if ours:
            # A payment that took money wins; otherwise the newest one is the order's.
            payment = next((p for p in ours if p.charged), ours[-1])
            log.warning("reconcile found payment %s for order %s", payment.id, order.id)
            if not payment.charged and payment.state is not PaymentState.FAILED:
                return self._abandon(order, payment.id)
            return self._apply(order, _result_of(payment))
        log.info("no payment at the gateway for order %s: failing it", order.id)
        return self._apply(order, PaymentResult(PaymentOutcome.DECLINED, None, "abandoned"))

    def _abandon(self, order: Order, payment_id: str) -> Placement:
        assert order.attempt is not None
        result = self._payments.cancel(
            payment_id, idempotency_key=f"{order.attempt.idempotency_key}-cancel"
        )
        # A payment that succeeded after all is PAID, never FAILED.
        return self._apply(order, result, canceled=True)

    def _save_pending(
        self,
        user_id: int,
        draft: Order,
        payment_token: str,
        request_key: str | None,
    ) -> Order:
        pending = replace(
            draft,
            user_id=user_id,
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
            order_reference=order.reference,
        )
        self._after_charge(order, result)
        return self._apply(order, result)

    def _check(self, order: Order) -> Placement:
        assert order.attempt is not None and order.attempt.payment_id is not None
        return self._apply(order, self._payments.status(order.attempt.payment_id))

    def _apply(self, order: Order, result: PaymentResult, *, canceled: bool = False) -> Placement:
        """Settle from the gateway's answer in short transactions (compare-and-swap)."""
        assert order.id is not None and order.attempt is not None
        if result.payment is not None:
            settled = self._settle_from(order, result.payment, canceled=canceled)
        elif result.outcome is PaymentOutcome.DECLINED:
            # Declined before the gateway showed us a payment (or it made none).
            failed = Payment(
                id=result.payment_id or "", state=PaymentState.FAILED, amount=order.amount
            )
            settled = self._settle_from(
                order, failed, payment_id=result.payment_id, canceled=canceled
            )
        else:
            for transaction in retrying(self._uow):
                with transaction as uow:
                    if result.payment_id is not None and order.attempt.payment_id is None:
                        uow.orders.record_attempt(
                            order.id, replace(order.attempt, payment_id=result.payment_id)
                        )
                    fresh = uow.orders.get(order.id)
                    uow.commit()
            assert fresh is not None
            settled = fresh
        return Placement(settled, result.outcome, result.message, result.client_secret)

    def _settle_from(
        self,
        order: Order,
        payment: Payment,
        *,
        payment_id: str | None = None,
        canceled: bool = False,
    ) -> Order:
        """Move the order to where ``payment`` says it stands, then act on what that means:
        a payment that failed is closed at the gateway, money that arrived for a FAILED
        order is given back."""
        assert order.id is not None
        pid = payment_id if payment_id is not None else (payment.id or None)
        settled = self._swap(order, payment, pid)
        if (
            settled.status is PaymentStatus.FAILED
            and order.status is PaymentStatus.PENDING
            and pid is not None
            and not canceled
        ):
            settled = self._close(settled, pid)
        elif settled.status is PaymentStatus.FAILED and payment.charged:
            settled = self._give_back(settled, payment)
        return settled

    def _swap(self, order: Order, payment: Payment, payment_id: str | None) -> Order:
        """Compare-and-swap status and refunded amount; re-read and retry on a race."""
        assert order.id is not None
        current = order
        for _ in range(5):
            target = current.settled_by(payment)
            if (target.status, target.refunded_cents) == (current.status, current.refunded_cents):
                if payment_id is not None and current.attempt is not None and (
                    current.attempt.payment_id is None and current.status is PaymentStatus.PENDING
                ):
                    for transaction in retrying(self._uow):
                        with transaction as uow:
                            uow.orders.record_attempt(
                                order.id, replace(current.attempt, payment_id=payment_id)
                            )
                            uow.commit()
                    return replace(current, attempt=replace(current.attempt, payment_id=payment_id))
                return current
            for transaction in retrying(self._uow):
                with transaction as uow:
                    swapped = uow.orders.settle(
                        order.id,
                        expected=current.status,
                        expected_refunded_cents=current.refunded_cents,
                        target=target.status,
                        refunded_cents=target.refunded_cents,
                        payment_id=payment_id,
                        at=self._clock.now(),
                    )
                    fresh = uow.orders.get(order.id)
                    # The mail is queued in the transaction that moves the order (a rerun
                    # queues it again in its own; the lost attempt's row was rolled back).
                    queued = bool(
                        swapped
                        and fresh is not None
                        and self._mail is not None
                        and self._mail.queue_order_change(uow, current, fresh)
                    )
                    uow.commit()
            if fresh is None:
                raise OrderNotFound()
            if queued:
                self._send_mail()
            if swapped:
                return fresh
            known = fresh.attempt.payment_id if fresh.attempt else None
            if payment_id is not None and known not in (None, payment_id):
                return fresh  # a stale attempt's payment moves nothing
            current = fresh
        return current

    def _send_mail(self) -> None:
        """Deliver what was queued; a failure here never undoes or fails the payment."""
        assert self._mail is not None
        try:
            self._mail.deliver()
        except Exception:  # the outbox keeps the mail; `framesell send-mail` retries it
            log.exception("could not deliver the queued mail now")

    def _close(self, order: Order, payment_id: str) -> Order:
        """A FAILED order's payment is canceled at the gateway if it still allows, so the
        shopper's client secret can no longer pay it."""
        assert order.attempt is not None
        result = self._payments.cancel(
            payment_id, idempotency_key=f"{order.attempt.idempotency_key}-cancel"
        )
        if result.payment is not None and result.payment.charged:
            return self._give_back(order, result.payment)
        return order

    def _give_back(self, order: Order, payment: Payment) -> Order:
        """Money arrived for a FAILED order: refund it all, and say so in the log."""
        assert order.attempt is not None and order.id is not None
        log.warning(
            "payment %s took %s for order %s, which had FAILED: refunding it",
            payment.id, payment.amount, order.id,
        )
        if payment.refunded_cents >= payment.amount.cents:
            return self._swap(order, payment, payment.id)
        result = self._payments.refund(
            payment.id, idempotency_key=f"{order.attempt.idempotency_key}-refund-failed-order"
        )
        if result.payment is None:
            log.error("could not refund payment %s of FAILED order %s yet", payment.id, order.id)
            return order
        return self._swap(order, result.payment, payment.id)

    def _record_dispute(self, order: Order, event: PaymentEvent) -> bool:
        assert order.id is not None
        try:
            status = DisputeStatus(event.dispute_status or "")
        except ValueError:
            log.warning("dispute event %s has an unknown status %r", event.id,
                        event.dispute_status)
            return False
        if order.attempt is None or order.attempt.payment_id != event.payment_id:
            log.warning(
                "dispute event %s names payment %s, not order %s's: not applied",
                event.id, event.payment_id, order.id,
            )
            return False
        disputed = order.disputed(status)
        log.warning(
            "chargeback on order %s (payment %s): %s", order.id, event.payment_id, status.value
        )
        if disputed.dispute is order.dispute:
            return False
        assert disputed.dispute is not None
        for transaction in retrying(self._uow):
            with transaction as uow:
                uow.orders.record_dispute(order.id, disputed.dispute, at=self._clock.now())
                uow.commit()
        return True

    def _remember_event(self, event: PaymentEvent) -> None:
        for transaction in retrying(self._uow):
            with transaction as uow:
                if uow.payment_events.add(event.id, event.type, self._clock.now()):
                    uow.commit()

    @staticmethod
    def _belongs(order: Order, payment: Payment, *, unreferenced_ok: bool = False) -> bool:
        """Whether a payment the gateway reports is this order's: its own attempt's, or one
        made for it (same order and reference) before its id was recorded; same amount.

        ``unreferenced_ok`` also accepts a payment for the order without a reference (made
        before references were written), for reconcile's lookup of an order whose payment
        id was never recorded; an event never settles an order from such a payment.
        """
        if payment.amount != order.amount or order.attempt is None:
            return False
        known = order.attempt.payment_id
        if known is not None:
            return known == payment.id
        if payment.order_id != order.id:
            return False
        if payment.order_reference is None:
            return unreferenced_ok
        return payment.order_reference == order.reference


def _mode(live: bool) -> str:
    return "live" if live else "test"


def _result_of(payment: Payment) -> PaymentResult:
    outcome = {
        PaymentState.SUCCEEDED: PaymentOutcome.PAID,
        PaymentState.REFUNDED: PaymentOutcome.REFUNDED,
        PaymentState.FAILED: PaymentOutcome.DECLINED,
        PaymentState.REQUIRES_ACTION: PaymentOutcome.REQUIRES_ACTION,
        PaymentState.PROCESSING: PaymentOutcome.PENDING,
    }[payment.state]
    return PaymentResult(outcome, payment.id, payment.failure_message, payment=payment)
