"""Domain objects to the JSON shapes of the API (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from framesell.domain.models import (
    Order,
    OrderSummary,
    Product,
    ProductSnapshot,
    ShopperOrder,
    User,
)
from framesell.domain.money import Money


def price_json(money: Money) -> int | float:
    """Major units as the original sent them: ``100`` for $100.00, ``59.99`` for 5999 cents.

    The float is made from the exact decimal text, and a two-decimal value always prints
    back as that same text, so no rounding error can show up in the JSON.
    """
    if money.cents % 100 == 0:
        return money.cents // 100
    return float(money.major)


def timestamp_json(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and ``Z``."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    if utc.year < 1000:  # strftime's %Y does not pad these to four digits
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{utc.isoformat(timespec='microseconds')[:26]}Z"  # as strftime, but faster


def product_json(product: Product | ProductSnapshot) -> dict[str, Any]:
    """A catalog entry, or the snapshot an order keeps of it."""
    product_id = product.product_id if isinstance(product, ProductSnapshot) else product.id
    return {
        "id": product_id,
        "price": price_json(product.price),
        "description": product.description,
        "url": product.url,
        "currency": product.price.currency,
    }


def order_json(order: Order | OrderSummary) -> dict[str, Any]:
    """An order with what was bought at the price paid."""
    return {
        "id": order.id,
        "user": order.user_id,
        "orderdate": timestamp_json(order.created_at),
        "paymentstatus": order.status.value,
        "product": product_json(order.product),
        "refunded": price_json(Money(order.refunded_cents, order.product.price.currency)),
    }


def shopper_order_json(found: ShopperOrder) -> dict[str, Any]:
    """An order as the owner's list shows it: with its shopper's email, payment and dispute."""
    order = found.order
    return {
        **order_json(order),
        "email": found.email,
        "payment_id": order.attempt.payment_id if order.attempt else None,
        "dispute": order.dispute.value if order.dispute else None,
    }


def user_json(user: User) -> dict[str, Any]:
    """The caller's own account, for GET /api/me/ (``is_admin`` shows the owner's pages)."""
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_admin": user.is_admin,
    }
