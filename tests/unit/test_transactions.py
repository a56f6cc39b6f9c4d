"""application.transactions: a write conflict reruns the transaction, a bounded number of times."""

from __future__ import annotations

import threading
from datetime import timedelta
from types import TracebackType

import pytest

from framesell.adapters.fake_payments import FakePaymentGateway
from framesell.adapters.memory import (
    FakePasswordHasher,
    FixedClock,
    MemoryMailer,
    MemoryTokenService,
    MemoryUnitOfWork,
    MemoryUnitOfWorkFactory,
)
from framesell.application.catalog import CatalogService
from framesell.application.errors import WriteConflict
from framesell.application.idempotency import Answer, IdempotentRequests, PlaceOrderOnce
from framesell.application.mail import MailOutbox, ShopMail
from framesell.application.orders import OrderService, Placement, Purchase
from framesell.application.payments import PaymentService
from framesell.application.transactions import PAUSE_SECONDS, TRIES, retrying
from framesell.application.users import UserService
from framesell.domain.errors import PaymentUnavailable, ProductNotFound
from framesell.domain.models import CartLine, DisputeStatus, PaymentStatus, Product, User
from framesell.domain.money import Money
from framesell.domain.records import PaymentEvent


class ConflictingUnitOfWork(MemoryUnitOfWork):
    """Its commit loses to another node's write (rolls back, raises WriteConflict) while told to."""

    def __init__(self, factory: ConflictingFactory) -> None:
        super().__init__(factory.store)
        self._factory = factory

    def commit(self) -> None:
        if self._factory.loses():
            self.rollback()
            raise WriteConflict()
        super().commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._factory.transactions += 1
        super().__exit__(exc_type, exc, tb)


class ConflictingFactory(MemoryUnitOfWorkFactory):
    """Memory units of work whose next ``conflicts`` commits fail with a write conflict."""

    def __init__(self, conflicts: int) -> None:
        super().__init__()
        self.conflicts_left = conflicts
        self.transactions = 0

    def __call__(self) -> ConflictingUnitOfWork:
        return ConflictingUnitOfWork(self)

    def loses(self) -> bool:
        """Whether the commit being made loses to another node's write."""
        if self.conflicts_left > 0:
            self.conflicts_left -= 1
            return True
        return False


class EveryTransactionLosesOnce(ConflictingFactory):
    """Every second commit loses: each transaction's first commit, if each is rerun once.

    A write transaction that is not run through ``retrying`` lets the conflict out.
    """

    def __init__(self) -> None:
        super().__init__(conflicts=0)
        self.commits = 0
        self.lost = 0
        self._lock = threading.Lock()
        self._thread = threading.local()  # each thread's transactions run one after another

    def loses(self) -> bool:
        """Lose each thread's first, third, fifth... commit."""
        mine = getattr(self._thread, "commits", 0) + 1
        self._thread.commits = mine
        with self._lock:
            self.commits += 1
            self.lost += mine % 2
        return mine % 2 == 1


PRICE = Money(1999, "usd")


def a_product() -> Product:
    """A product to store."""
    return Product.new("Bridge", "https://x.example/b.jpg", PRICE)


def test_a_transaction_that_loses_twice_runs_three_times_and_commits_once() -> None:
    factory = ConflictingFactory(conflicts=2)
    pauses: list[float] = []
    runs = 0

    for transaction in retrying(factory, sleep=pauses.append):
        with transaction as uow:
            runs += 1
            uow.products.add(a_product())
            uow.commit()

    assert runs == 3
    with factory() as uow:
        assert len(uow.products.list_active()) == 1
    assert len(pauses) == 2
    assert all(0 <= pause <= PAUSE_SECONDS * 2**n for n, pause in enumerate(pauses, start=1))


def test_a_transaction_that_always_loses_runs_tries_times_then_raises_the_conflict() -> None:
    factory = ConflictingFactory(conflicts=100)
    runs = 0

    with pytest.raises(WriteConflict):
        for transaction in retrying(factory, sleep=lambda seconds: None):
            with transaction as uow:
                runs += 1
                uow.products.add(a_product())
                uow.commit()

    assert runs == TRIES
    assert factory.transactions == TRIES
    with factory() as uow:
        assert uow.products.list_active() == []


def test_any_other_error_is_raised_at_once_without_a_rerun() -> None:
    factory = ConflictingFactory(conflicts=0)
    runs = 0

    with pytest.raises(ProductNotFound):
        for transaction in retrying(factory, sleep=lambda seconds: None):
            with transaction:
                runs += 1
                raise ProductNotFound()

    assert runs == 1


def test_a_use_case_reruns_its_transaction_on_its_fresh_reads() -> None:
    factory = ConflictingFactory(conflicts=0)
    catalog = CatalogService(factory)
    product = catalog.add_product("Bridge", "https://x.example/b.jpg", PRICE)
    assert product.id is not None
    factory.conflicts_left = TRIES - 1  # lose every attempt but the last

    updated = catalog.update_product(product.id, "Bridge at night", product.url, PRICE)

    assert updated.description == "Bridge at night"
    assert catalog.product_for_sale(product.id).description == "Bridge at night"
    factory.conflicts_left = TRIES  # lose every attempt
    with pytest.raises(WriteConflict):
        catalog.withdraw_product(product.id)
    assert catalog.product_for_sale(product.id).active


def test_every_write_of_buying_refunds_events_reconcile_mail_and_resets_is_rerun() -> None:
    factory = EveryTransactionLosesOnce()
    clock = FixedClock()
    gateway = FakePaymentGateway(now=clock.now)
    catalog = CatalogService(factory)
    mailer = MemoryMailer()
    outbox = MailOutbox(factory, mailer, clock, ShopMail(owner="owner@example.com"))
    orders = OrderService(factory, catalog, PaymentService(gateway), clock, mail=outbox)
    requests = IdempotentRequests(factory, clock)
    place = PlaceOrderOnce(orders, requests)
    with MemoryUnitOfWork(factory.store) as uow:  # set up without conflicts
        user_id = uow.users.add(User(None, "s@example.com", "S", "T", "hash")).id or 0
        uow.commit()
    product = catalog.add_product("Bridge", "https://x.example/b.jpg", Money(5999))
    assert product.id is not None

    def render(placement: Placement) -> Answer:
        return Answer(201, str(placement.order.id))

    # Bought under an Idempotency-Key: the key's claim, the PENDING order, the settle, the
    # stored answer; then a refund in the dashboard, an event, a refund, a dispute.
    download = Purchase((CartLine(product.id),))  # what {"token", "product"} buys
    placed = place(user_id, download, "tok_visa", key="k", fingerprint="f", render=render)
    assert placed.placement is not None
    order = placed.placement.order
    assert order.id is not None and order.status is PaymentStatus.PAID
    payment_id = order.attempt.payment_id if order.attempt else None
    assert payment_id is not None
    gateway.refund_elsewhere(payment_id, 1000)
    refunded = PaymentEvent("evt_1", "charge.refunded", payment_id, order.id)
    assert orders.apply_payment_event(refunded)
    assert not orders.apply_payment_event(refunded)  # recorded, so applied once
    assert orders.refund(order.id, Money(999)).refunded_cents == 1999
    assert orders.refund(order.id).status is PaymentStatus.REFUNDED
    dispute = PaymentEvent(
        "evt_2",
        "charge.dispute.created",
        payment_id,
        order.id,
        dispute_status=DisputeStatus.NEEDS_RESPONSE.value,
    )
    assert orders.apply_payment_event(dispute)
    # A purchase whose answer was lost is leased, postponed, then settled by reconcile.
    gateway.fail_next_with(PaymentUnavailable)
    pending = orders.place_order(user_id, product.id, "tok_visa").order
    assert pending.id is not None and pending.status is PaymentStatus.PENDING
    gateway.fail_next_with(PaymentUnavailable)
    clock.advance(timedelta(minutes=10))
    assert orders.reconcile().unchanged == [pending.id]
    clock.advance(timedelta(hours=1))
    assert orders.reconcile().settled == {pending.id: PaymentStatus.PAID}
    clock.advance(timedelta(days=2))
    assert requests.purge() == 1
    # The order mails were queued by the settles and sent: claimed, then marked sent.
    assert len(mailer.to("owner@example.com")) == 2
    assert outbox.deliver().sent == []
    # A password reset: the link's record and its mail, then the new password.
    links: list[str] = []
    users = UserService(
        factory,
        FakePasswordHasher(),
        MemoryTokenService(clock, timedelta(hours=1)),
        clock=clock,
        mail=outbox,
        reset_link=lambda token: links.append(token) or token,
    )
    users.request_password_reset("s@example.com")
    for thread in threading.enumerate():
        if thread.name == "framesell-mail":
            thread.join(10)
    resets = [m for m in mailer.to("s@example.com") if "new FrameSell password" in m.subject]
    assert len(resets) == 1 and len(set(links)) == 1  # the rerun wrote the same link
    users.reset_password(links[0], "a new password")

    assert factory.lost > 10
    assert factory.commits == 2 * factory.lost  # each write lost once, then committed
    with MemoryUnitOfWork(factory.store) as uow:
        final = uow.orders.get(order.id)
    assert final is not None and final.dispute is not None
    assert (final.status, final.refunded_cents) == (PaymentStatus.REFUNDED, 5999)
