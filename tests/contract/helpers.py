"""Builders of unique test data for the storage contract tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from framesell.application.ports import UnitOfWork
from framesell.domain.models import (
    Order,
    OrderItem,
    PaymentAttempt,
    PaymentStatus,
    Product,
    ProductSnapshot,
    User,
)
from framesell.domain.money import Money

T0 = datetime(2017, 2, 11, 2, 40, 24, 333429, tzinfo=UTC)


def unique() -> str:
    """A short random tag that keeps each test's data apart."""
    return uuid.uuid4().hex[:12]


def a_user(email: str | None = None, **changes: object) -> User:
    """An unsaved user with a unique, normalized email."""
    fields: dict[str, object] = {
        "id": None,
        "email": email or f"shopper-{unique()}@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "password_hash": f"fake$1${unique()}$hash",
        "is_admin": False,
    }
    fields.update(changes)
    return User(**fields)  # type: ignore[arg-type]


def a_product(cents: int = 10_000, *, active: bool = True, description: str = "") -> Product:
    """An unsaved product with a unique description."""
    return Product(
        id=None,
        description=description or f"Brooklyn Bridge {unique()}",
        url=f"https://example.com/photos/{unique()}.jpg",
        price=Money(cents),
        active=active,
    )


def an_order(
    user: User,
    product: Product,
    *,
    created_at: datetime = T0,
    status: PaymentStatus = PaymentStatus.PENDING,
    attempt: PaymentAttempt | None = None,
) -> Order:
    """An unsaved order of ``product``'s digital download by ``user`` with a unique reference."""
    digital = product.format(None)
    line = OrderItem(
        id=1,
        product_id=product.id or 0,
        description=product.description,
        url=product.url,
        format_id=digital.id,
        kind=digital.kind,
        label=digital.label,
        quantity=1,
        price=digital.price,
    )
    return Order(
        items=(line,),
        id=None,
        user_id=user.id or 0,
        product=ProductSnapshot.of(product),
        created_at=created_at,
        status=status,
        reference=uuid.uuid4().hex,
        attempt=attempt,
    )


def save_shopper_and_product(uow: UnitOfWork, cents: int = 10_000) -> tuple[User, Product]:
    """Store a new user and a new product (orders need both, foreign keys insist)."""
    return uow.users.add(a_user()), uow.products.add(a_product(cents))


def save_order(uow: UnitOfWork, *, at: datetime = T0, **kwargs: object) -> Order:
    """Store a new order by a new shopper, with attempt 1 recorded."""
    user, product = save_shopper_and_product(uow)
    order = uow.orders.add(an_order(user, product, created_at=at, **kwargs))  # type: ignore[arg-type]
    assert order.id is not None
    return order


def attempt_for(order: Order, number: int = 1, payment_id: str | None = None) -> PaymentAttempt:
    """The payment attempt ``number`` of an order."""
    return PaymentAttempt(number, order.payment_key(number), payment_id)


def later(minutes: int) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)
