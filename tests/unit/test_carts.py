"""Pricing a cart: lines at catalog prices, shipping once per order with prints, addresses."""

from __future__ import annotations

import pytest

from framesell.adapters.fake_payments import FakePaymentGateway
from framesell.adapters.memory import FixedClock, MemoryUnitOfWorkFactory
from framesell.application.catalog import CatalogService
from framesell.application.orders import OrderService
from framesell.application.payments import PaymentService
from framesell.domain.errors import InvalidInput, ProductNotFound
from framesell.domain.models import CartLine, FormatKind, ShippingAddress
from framesell.domain.money import Money
from framesell.settings import ConfigurationError, Settings

FLAT_SHIPPING = Money(900)
HOME = ShippingAddress.new(
    name="Ada", line1="1 Main St", city="Brooklyn", postal_code="11201", country=" de "
)


def a_shop(shipping: Money = FLAT_SHIPPING) -> tuple[OrderService, CatalogService]:
    uow = MemoryUnitOfWorkFactory()
    catalog = CatalogService(uow)
    payments = PaymentService(FakePaymentGateway())
    return OrderService(uow, catalog, payments, FixedClock(), shipping_price=shipping), catalog


def test_shipping_is_added_once_per_order_with_prints_and_never_for_downloads() -> None:
    orders, catalog = a_shop()
    photo = catalog.add_product("Bridge", "https://x.example/b.jpg", Money(2_000))
    size = catalog.add_format(photo.id or 0, "A4", Money(4_000))
    lines = [CartLine(photo.id or 0, size.id, 3), CartLine(photo.id or 0)]

    printed = orders.price_cart(lines, HOME)
    downloaded = orders.price_cart([CartLine(photo.id or 0)], HOME)

    assert printed.amount == Money(3 * 4_000 + 2_000 + 900)
    assert [i.kind for i in printed.items] == [FormatKind.PRINT, FormatKind.DIGITAL]
    assert printed.shipping == HOME and HOME.country == "DE"
    assert (downloaded.amount, downloaded.shipping, downloaded.shipping_price) == (
        Money(2_000),
        None,
        None,
    )


def test_a_print_needs_an_address_and_a_format_of_the_same_photo() -> None:
    orders, catalog = a_shop()
    one = catalog.add_product("One", "https://x.example/1.jpg", Money(2_000))
    two = catalog.add_product("Two", "https://x.example/2.jpg", Money(2_000))
    size = catalog.add_format(one.id or 0, "A4", Money(4_000))
    with pytest.raises(InvalidInput, match="shipping address is required"):
        orders.price_cart([CartLine(one.id or 0, size.id)], None)
    with pytest.raises(InvalidInput, match="not sold in that format"):
        orders.price_cart([CartLine(two.id or 0, size.id)], HOME)
    with pytest.raises(InvalidInput, match="the cart is empty"):
        orders.price_cart([], HOME)
    with pytest.raises(ProductNotFound):
        orders.price_cart([CartLine(987_654)], None)


@pytest.mark.parametrize(
    "fields",
    [
        {"country": "USA"},
        {"country": "1A"},
        {"name": " "},
        {"city": "x" * 201},
        {"line1": "1 Main\u202eSt"},
    ],
)
def test_an_address_is_checked(fields: dict[str, str]) -> None:
    good = {"name": "Ada", "line1": "1 Main St", "city": "B", "postal_code": "1", "country": "US"}
    with pytest.raises(InvalidInput):
        ShippingAddress.new(**{**good, **fields})


@pytest.mark.parametrize(("text", "cents"), [("9.00", 900), ("0", 0), ("0.00", 0), ("12.5", 1_250)])
def test_the_shipping_price_setting_is_dollars(text: str, cents: int) -> None:
    settings = Settings.from_mapping(
        {
            "framesell.storage": "memory",
            "framesell.payment": "fake",
            "framesell.jwt.secret": "x" * 32,
            "framesell.shipping.price": text,
        },
        environ={},
    )
    assert settings.shipping_cents == cents


def test_a_shipping_price_that_is_not_an_amount_stops_the_start() -> None:
    with pytest.raises(ConfigurationError, match=r"framesell\.shipping\.price"):
        Settings.from_mapping(
            {
                "framesell.storage": "memory",
                "framesell.payment": "fake",
                "framesell.jwt.secret": "x" * 32,
                "framesell.shipping.price": "free",
            },
            environ={},
        )
