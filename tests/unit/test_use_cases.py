"""The use cases on in-memory adapters: users, catalog, orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from framesell.adapters.argon2 import Argon2PasswordHasher
from framesell.adapters.fake_payments import FakePaymentGateway
from framesell.adapters.memory import FixedClock, MemoryUnitOfWorkFactory
from framesell.application.catalog import CatalogService
from framesell.application.orders import OrderService
from framesell.application.ports import PaymentOutcome
from framesell.application.users import UserService
from framesell.bootstrap import Settings, Shop, bootstrap
from framesell.domain.errors import (
    AuthenticationFailed,
    EmailTaken,
    InvalidInput,
    NotAuthenticated,
    PaymentUnavailable,
    ProductNotFound,
)
from framesell.domain.models import PaymentStatus
from framesell.domain.money import Money
from framesell.domain.payments import Payment

# Memory storage and the fake gateway, chosen in the settings as an ini file chooses them;
# real argon2id with cheap parameters.
SETTINGS = {
    "framesell.environment": "test",
    "framesell.storage": "memory",
    "framesell.payment": "fake",
    "framesell.jwt.secret": "use-case-tests-secret-" + "x" * 20,
    "framesell.argon2.memory_cost_kib": "1024",
    "framesell.argon2.time_cost": "1",
    "framesell.argon2.parallelism": "1",
}


@dataclass
class Rig:
    """The use cases as the composition root wires them, and the fakes the tests steer."""

    wired: Shop
    uow: MemoryUnitOfWorkFactory
    clock: FixedClock
    gateway: FakePaymentGateway
    hasher: Argon2PasswordHasher

    @property
    def users(self) -> UserService:
        return self.wired.users

    @property
    def catalog(self) -> CatalogService:
        return self.wired.catalog

    @property
    def orders(self) -> OrderService:
        return self.wired.orders


@pytest.fixture
def shop() -> Rig:
    settings = Settings.from_mapping(SETTINGS, environ={})
    clock, gateway = FixedClock(), FakePaymentGateway()
    wired = bootstrap(settings, clock=clock, gateway=gateway)
    assert isinstance(wired.uow, MemoryUnitOfWorkFactory)
    hasher = Argon2PasswordHasher(
        memory_cost_kib=settings.argon2_memory_cost_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )
    return Rig(wired, wired.uow, clock, gateway, hasher)


def register(shop: Rig, email: str = "foo@example.com") -> int:
    user = shop.users.register(first_name="Foo", last_name="Bar", email=email, password="password")
    assert user.id is not None
    return user.id


def test_registering_normalizes_the_email_and_hashes_the_password(shop: Rig) -> None:
    register(shop, "  Foo@Example.COM ")
    user = shop.users.find_by_email("foo@example.com")
    assert user is not None and user.email == "foo@example.com"
    assert user.password_hash != "password"
    assert shop.hasher.verify(user.password_hash, "password")


def test_an_email_registers_once_whatever_its_case(shop: Rig) -> None:
    register(shop, "foo@example.com")
    with pytest.raises(EmailTaken):
        register(shop, "FOO@example.com")


@pytest.mark.parametrize("password", ["short", "x" * 1025])
def test_passwords_outside_8_to_1024_characters_are_refused(shop: Rig, password: str) -> None:
    with pytest.raises(InvalidInput):
        shop.users.register(first_name="a", last_name="b", email="a@b.com", password=password)


def test_logging_in_returns_a_token_that_authenticates(shop: Rig) -> None:
    user_id = register(shop)
    token = shop.users.log_in("FOO@example.com ", "password")
    assert shop.users.authenticate(token).id == user_id


def test_a_wrong_password_and_an_unknown_email_fail_alike(shop: Rig) -> None:
    register(shop)
    with pytest.raises(AuthenticationFailed) as wrong:
        shop.users.log_in("foo@example.com", "wrong-password")
    with pytest.raises(AuthenticationFailed) as unknown:
        shop.users.log_in("nobody@example.com", "password")
    assert wrong.value.message == unknown.value.message


def test_an_expired_token_no_longer_authenticates(shop: Rig) -> None:
    register(shop)
    token = shop.users.log_in("foo@example.com", "password")
    shop.clock.advance(timedelta(hours=1))
    with pytest.raises(NotAuthenticated):
        shop.users.authenticate(token)


def test_a_hash_made_with_old_parameters_is_replaced_at_login(shop: Rig) -> None:
    user_id = register(shop)
    with shop.uow() as uow:
        weaker = Argon2PasswordHasher(memory_cost_kib=512, time_cost=1, parallelism=1)
        uow.users.update_password_hash(user_id, weaker.hash("password"))
        uow.commit()
    shop.users.log_in("foo@example.com", "password")
    with shop.uow() as uow:
        user = uow.users.get(user_id)
    assert user is not None and not shop.hasher.needs_rehash(user.password_hash)


def test_the_order_is_committed_pending_before_money_moves_and_no_transaction_spans_it(
    shop: Rig,
) -> None:
    user_id = register(shop)
    product = shop.catalog.add_product("Bridge", "https://x.example/b.jpg", Money(5999))
    seen: list[tuple[int, PaymentStatus | None]] = []
    real_charge = shop.gateway.charge

    def watching_charge(
        amount: Money, token: str, *, order_id: int, idempotency_key: str,
        order_reference: str | None = None,
    ) -> Payment:
        with shop.uow() as uow:  # a fresh transaction sees the committed order
            order = uow.orders.get(order_id)
        seen.append((shop.uow.store.open_transactions, order.status if order else None))
        return real_charge(amount, token, order_id=order_id, idempotency_key=idempotency_key,
                           order_reference=order_reference)

    shop.gateway.charge = watching_charge  # type: ignore[method-assign]
    placement = shop.orders.place_order(user_id, product.id or 0, "tok_visa")
    assert seen == [(0, PaymentStatus.PENDING)]
    assert placement.order.status is PaymentStatus.PAID
    assert placement.order.attempt is not None
    assert placement.order.attempt.payment_id is not None


def test_a_decline_fails_the_order_and_keeps_it(shop: Rig) -> None:
    user_id = register(shop)
    product = shop.catalog.add_product("Bridge", "https://x.example/b.jpg", Money(100))
    placement = shop.orders.place_order(user_id, product.id or 0, "tok_chargeDeclined")
    assert placement.outcome is PaymentOutcome.DECLINED
    assert placement.message == "Your card was declined."
    assert shop.orders.list_orders_of_account(user_id).orders == (placement.order.summary(),)
    assert placement.order.status is PaymentStatus.FAILED


def test_an_unreachable_gateway_leaves_the_order_pending(shop: Rig) -> None:
    user_id = register(shop)
    product = shop.catalog.add_product("Bridge", "https://x.example/b.jpg", Money(100))
    shop.gateway.fail_next_with(PaymentUnavailable)
    placement = shop.orders.place_order(user_id, product.id or 0, "tok_visa")
    assert placement.outcome is PaymentOutcome.UNAVAILABLE
    assert placement.order.status is PaymentStatus.PENDING


def test_the_amount_comes_from_the_catalog_and_withdrawn_products_cannot_be_bought(
    shop: Rig,
) -> None:
    user_id = register(shop)
    product = shop.catalog.add_product("Bridge", "https://x.example/b.jpg", Money(1234))
    placement = shop.orders.place_order(user_id, product.id or 0, "tok_visa")
    (charge,) = shop.gateway.charges_for_order(placement.order.id or 0)
    assert charge.amount == Money(1234)
    with shop.uow() as uow:
        from dataclasses import replace

        uow.products.update(replace(product, active=False))
        uow.commit()
    with pytest.raises(ProductNotFound):
        shop.orders.place_order(user_id, product.id or 0, "tok_visa")


def test_catalog_import_is_all_or_nothing(shop: Rig) -> None:
    with pytest.raises(InvalidInput):
        shop.catalog.import_products(
            [("Good", "https://x.example/a.jpg", Money(100)), ("Bad", "http://x", Money(100))]
        )
    assert shop.catalog.list_products() == []


def test_a_new_order_is_charged_as_attempt_1_under_its_own_key_and_reference(shop: Rig) -> None:
    seen: list[tuple[Any, Any]] = []
    # The fault point is a seam the composition root sets only for the crash test; this
    # one order service is built with it, on the composition root's collaborators.
    orders = OrderService(
        shop.uow,
        shop.catalog,
        shop.wired.payments,
        shop.clock,
        after_charge=lambda order, result: seen.append((order, result)),
    )
    user_id = register(shop)
    product = shop.catalog.add_product("Bridge", "https://x.example/b.jpg", Money(100))
    assert product.id is not None
    placed = orders.place_order(user_id, product.id, "tok_visa")
    order = placed.order
    assert order.id is not None and order.attempt is not None
    key = f"framesell-order-{order.reference}-attempt-1"
    assert (order.attempt.number, order.attempt.idempotency_key) == (1, key)
    (payment,) = shop.gateway.payments_for_order(order.id)
    assert payment.order_reference == order.reference
    # Charging again under the stored key is the same payment (the key is the one used).
    again = shop.gateway.charge(
        Money(100), "tok_visa", order_id=order.id, idempotency_key=key,
        order_reference=order.reference,
    )
    assert again.id == payment.id
    ((hooked_order, hooked_result),) = seen  # the fault point sees the order and the answer
    assert hooked_order.id == order.id and hooked_result.payment_id == payment.id
