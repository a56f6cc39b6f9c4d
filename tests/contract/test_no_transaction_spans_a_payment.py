"""On real databases: the order is committed PENDING and no connection is checked out while
the gateway is called, so no transaction (and no row lock) spans a call to Stripe."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from framesell.adapters.fake_payments import FakePaymentGateway
from framesell.adapters.memory import FixedClock
from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from framesell.application.catalog import CatalogService
from framesell.application.orders import OrderService
from framesell.application.payments import PaymentService
from framesell.domain.models import PaymentStatus, User
from framesell.domain.money import Money
from framesell.domain.payments import Payment


class WatchingGateway(FakePaymentGateway):
    """A fake gateway that notes, at each charge, what the database looks like."""

    def __init__(self, engine: Engine, uow: SqlUnitOfWorkFactory) -> None:
        super().__init__()
        self.engine = engine
        self.uow = uow
        self.seen: list[tuple[int, PaymentStatus | None]] = []

    def charge(self, amount: Money, payment_token: str, **kwargs: Any) -> Payment:
        checked_out = self.engine.pool.checkedout()  # type: ignore[attr-defined]
        with self.uow() as uow:  # another connection sees the committed order
            order = uow.orders.get(kwargs["order_id"])
        self.seen.append((checked_out, order.status if order else None))
        return super().charge(amount, payment_token, **kwargs)


@pytest.mark.parametrize("token", ["tok_visa", "tok_chargeDeclined"])
def test_no_connection_is_held_while_the_gateway_charges(sql_engine: Engine, token: str) -> None:
    uow = SqlUnitOfWorkFactory(sql_engine)
    gateway = WatchingGateway(sql_engine, uow)
    catalog = CatalogService(uow)
    orders = OrderService(uow, catalog, PaymentService(gateway), FixedClock())
    with uow() as tx:
        user = tx.users.add(User(None, "watch@example.com", "W", "G", "hash"))
        tx.commit()
    product = catalog.add_product("Bridge", "https://x.example/b.jpg", Money(5999))

    placement = orders.place_order(user.id or 0, product.id or 0, token)

    assert gateway.seen == [(0, PaymentStatus.PENDING)]
    assert placement.order.status in (PaymentStatus.PAID, PaymentStatus.FAILED)
    assert sql_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


class CountingGateway(FakePaymentGateway):
    """A fake gateway that notes how many connections are checked out at every call."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.calls: list[tuple[str, int]] = []

    def _note(self, name: str) -> None:
        self.calls.append((name, self.engine.pool.checkedout()))  # type: ignore[attr-defined]

    def charge(self, *args: Any, **kwargs: Any) -> Payment:
        self._note("charge")
        return super().charge(*args, **kwargs)

    def retrieve(self, payment_id: str) -> Payment:
        self._note("retrieve")
        return super().retrieve(payment_id)

    def refund(self, payment_id: str, **kwargs: Any) -> Payment:
        self._note("refund")
        return super().refund(payment_id, **kwargs)

    def cancel(self, payment_id: str, **kwargs: Any) -> Payment:
        self._note("cancel")
        return super().cancel(payment_id, **kwargs)


def test_no_connection_is_held_while_events_refunds_and_cancels_ask_the_gateway(
    sql_engine: Engine,
) -> None:
    from framesell.domain.records import PaymentEvent

    uow = SqlUnitOfWorkFactory(sql_engine)
    gateway = CountingGateway(sql_engine)
    catalog = CatalogService(uow)
    orders = OrderService(uow, catalog, PaymentService(gateway), FixedClock())
    with uow() as tx:
        user = tx.users.add(User(None, "count@example.com", "C", "G", "hash"))
        tx.commit()
    product = catalog.add_product("Bridge", "https://x.example/b.jpg", Money(5999))
    user_id, product_id = user.id or 0, product.id or 0

    declined = orders.place_order(user_id, product_id, "tok_chargeDeclined")  # then canceled
    paid = orders.place_order(user_id, product_id, "tok_visa")
    paid_id = paid.order.attempt.payment_id if paid.order.attempt else None
    orders.refund(paid.order.id or 0, Money(1000))
    gateway.refund_elsewhere(paid_id or "", 1000)
    orders.apply_payment_event(
        PaymentEvent("evt_counted", "charge.refunded", paid_id, paid.order.id)
    )

    assert declined.order.status is PaymentStatus.FAILED
    assert {name for name, _ in gateway.calls} == {"charge", "cancel", "retrieve", "refund"}
    assert [held for _, held in gateway.calls] == [0] * len(gateway.calls)
    assert sql_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
