"""Domain objects to the JSON shapes of the API (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from framesell.domain.models import (
    Format,
    Order,
    OrderItem,
    OrderSummary,
    Product,
    ProductSnapshot,
    ShippingAddress,
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
    """A catalog entry with its formats, or the snapshot an order keeps of a photo.

    Never the full-resolution file: that is only reached through a paid order's download.
    """
    if isinstance(product, ProductSnapshot):
        return {
            "id": product.product_id,
            "price": price_json(product.price),
            "description": product.description,
            "url": product.url,
            "currency": product.price.currency,
        }
    return {
        "id": product.id,
        "price": price_json(product.price),
        "description": product.description,
        "url": product.url,
        "currency": product.price.currency,
        "formats": [format_json(f) for f in product.formats]
        or [format_json(product.format(None))],
    }


def format_json(format: Format) -> dict[str, Any]:
    """One way to buy a photo, with its price in major units."""
    return {
        "id": format.id,
        "kind": format.kind.value,
        "label": format.label,
        "price": price_json(format.price),
    }


def item_json(item: OrderItem) -> dict[str, Any]:
    """One line of an order: the photo, the format, how many, the unit price paid."""
    return {
        "id": item.id,
        "product": product_json(
            ProductSnapshot(item.product_id, item.description, item.url, item.price)
        ),
        "format": {"id": item.format_id, "kind": item.kind.value, "label": item.label},
        "quantity": item.quantity,
        "price": price_json(item.price),
    }


def shipping_json(address: ShippingAddress | None) -> dict[str, Any] | None:
    """Where an order's prints go, in Stripe's field names; None when nothing ships."""
    if address is None:
        return None
    return {
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def order_json(order: Order | OrderSummary) -> dict[str, Any]:
    """An order with what was bought at the price paid, its lines, address and total."""
    currency = order.product.price.currency
    return {
        "id": order.id,
        "user": order.user_id,
        "orderdate": timestamp_json(order.created_at),
        "paymentstatus": order.status.value,
        "product": product_json(order.product),
        "refunded": price_json(Money(order.refunded_cents, currency)),
        "items": [item_json(item) for item in order.items],
        "shipping": shipping_json(order.shipping),
        "shipping_price": price_json(order.shipping_price or Money(0, currency)),
        "total": price_json(order.total),
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
