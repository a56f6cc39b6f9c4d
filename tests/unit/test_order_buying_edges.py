"""The order service's buying path at its edges: carts refused before any price is read, and
a gateway answer that names a payment without showing it.

Each test guards a rule a mutant of ``application/orders.py`` broke without another test
failing (docs/testing.md, mutation testing): the HTTP schema refuses these carts first, so
only the use case itself shows what it says of them.
"""

from __future__ import annotations

import pytest

from framesell.adapters.memory import FixedClock, MemoryUnitOfWorkFactory
from framesell.application.catalog import CatalogService
from framesell.application.orders import OrderService
from framesell.application.ports import PaymentOutcome, PaymentResult
from framesell.domain import money
from framesell.domain.errors import InvalidInput
from framesell.domain.models import (
    MAX_ORDER_LINES,
    MAX_QUANTITY,
    CartLine,
    PaymentStatus,
    Product,
    ShippingAddress,
)
from framesell.domain.money import Money
from tests.unit.test_order_events_edges import ScriptedPayments, make_shop


@pytest.mark.parametrize(
    ("lines", "message", "field"),
    [
        ([], "the cart is empty", "items"),
        (
            [CartLine(n) for n in range(MAX_ORDER_LINES + 1)],
            f"an order holds at most {MAX_ORDER_LINES} lines",
            "items",
        ),
        ([CartLine(1, quantity=0)], f"a quantity is a whole number from 1 to {MAX_QUANTITY}",
         "quantity"),
        ([CartLine(1, quantity=MAX_QUANTITY + 1)],
         f"a quantity is a whole number from 1 to {MAX_QUANTITY}", "quantity"),
    ],
)
def test_a_cart_refused_before_pricing_says_why_and_names_the_field(
    lines: list[CartLine], message: str, field: str
) -> None:
    shop = make_shop()  # no catalog: these are refused before any product is read
    with pytest.raises(InvalidInput) as refused:
        shop.orders.price_cart(lines, None)
    assert (str(refused.value), refused.value.field) == (message, field)


@pytest.mark.parametrize(
    "outcome", [PaymentOutcome.UNAVAILABLE, PaymentOutcome.REQUIRES_ACTION, PaymentOutcome.PENDING]
)
def test_a_payment_the_gateway_names_but_does_not_show_is_recorded_on_the_pending_order(
    outcome: PaymentOutcome,
) -> None:
    shop = make_shop()
    order = shop.add_order(payment_id=None)
    shop.gateway.pay_result = PaymentResult(outcome, "pi_9", client_secret="pi_9_secret")

    placement = shop.orders.resume(shop.user_id, order.id or 0)

    stored = shop.order(order.id)
    assert stored.status is PaymentStatus.PENDING
    assert stored.attempt is not None and stored.attempt.payment_id == "pi_9"
    assert placement.order == stored
    assert (placement.outcome, placement.client_secret) == (outcome, "pi_9_secret")


def test_an_answer_without_a_payment_id_records_none() -> None:
    shop = make_shop()
    order = shop.add_order(payment_id=None)
    shop.gateway.pay_result = PaymentResult(PaymentOutcome.UNAVAILABLE, None)

    shop.orders.resume(shop.user_id, order.id or 0)

    assert shop.order(order.id) == order


class CountingCatalog(CatalogService):
    """The catalog, counting how often buying reads a product from the store."""

    reads = 0

    def product_for_sale(self, product_id: int) -> Product:
        self.reads += 1
        return super().product_for_sale(product_id)


def test_a_cart_reads_each_photo_from_the_store_once_however_many_lines_name_it() -> None:
    uow = MemoryUnitOfWorkFactory()
    catalog = CountingCatalog(uow)
    photo = catalog.add_product("Bridge", "https://x.example/b.jpg", Money(1000))
    assert photo.id is not None
    small = catalog.add_format(photo.id, "20x30 cm", Money(3000))
    orders = OrderService(uow, catalog, ScriptedPayments(), FixedClock())
    address = ShippingAddress("Ada Lovelace", "1 Main St", "", "London", "N1", "GB")

    order = orders.price_cart(
        [CartLine(photo.id), CartLine(photo.id, small.id), CartLine(photo.id, small.id)], address
    )

    assert catalog.reads == 1  # one snapshot of the photo for the whole cart
    assert [(item.label, item.quantity) for item in order.items] == [
        ("Digital download", 1), ("20x30 cm", 2),
    ]


def a_priced_photo() -> tuple[OrderService, int, int]:
    uow = MemoryUnitOfWorkFactory()
    catalog = CatalogService(uow)
    photo = catalog.add_product("Bridge", "https://x.example/b.jpg", Money(1000))
    assert photo.id is not None
    size = catalog.add_format(photo.id, "20x30 cm", Money(3000))
    assert size.id is not None
    return OrderService(uow, catalog, ScriptedPayments(), FixedClock()), photo.id, size.id


ADDRESS = ShippingAddress("Ada Lovelace", "1 Main St", "", "London", "N1", "GB")


@pytest.mark.parametrize(
    ("quantities", "message"),
    [
        ((50, 50), f"a quantity is a whole number from 1 to {MAX_QUANTITY}"),
        ((MAX_QUANTITY, 1), f"a quantity is a whole number from 1 to {MAX_QUANTITY}"),
    ],
)
def test_lines_of_one_print_together_over_the_limit_are_refused(
    quantities: tuple[int, int], message: str
) -> None:
    orders, photo, size = a_priced_photo()
    with pytest.raises(InvalidInput) as refused:
        orders.price_cart([CartLine(photo, size, q) for q in quantities], ADDRESS)
    assert (str(refused.value), refused.value.field) == (message, "quantity")


def test_lines_of_one_print_together_at_the_limit_are_one_line_of_that_many() -> None:
    orders, photo, size = a_priced_photo()
    order = orders.price_cart([CartLine(photo, size, 50), CartLine(photo, size, 49)], ADDRESS)
    assert [(item.label, item.quantity) for item in order.items] == [("20x30 cm", MAX_QUANTITY)]


def test_a_digital_download_in_two_lines_is_refused_naming_the_quantity() -> None:
    orders, photo, _ = a_priced_photo()
    with pytest.raises(InvalidInput) as refused:
        orders.price_cart([CartLine(photo), CartLine(photo)], None)
    assert (str(refused.value), refused.value.field) == (
        "a digital download is bought once", "quantity"
    )


def test_a_cart_of_two_currencies_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only dollars are sold today; the rule is for the shop with a second currency.
    monkeypatch.setattr(money, "SUPPORTED_CURRENCIES", frozenset({"usd", "eur"}))
    orders, photo, _ = a_priced_photo()
    uow = orders._uow  # the same store the catalog writes to
    with uow() as tx:
        euro = tx.products.add(Product.new("Canal", "https://x.example/c.jpg", Money(900, "eur")))
        tx.commit()
    assert euro.id is not None
    with pytest.raises(InvalidInput) as refused:
        orders.price_cart([CartLine(photo), CartLine(euro.id)], None)
    assert (str(refused.value), refused.value.field) == (
        "an order is paid in one currency", "items"
    )


def test_a_print_without_an_address_is_refused_naming_the_shipping() -> None:
    orders, photo, size = a_priced_photo()
    with pytest.raises(InvalidInput) as refused:
        orders.price_cart([CartLine(photo, size)], None)
    assert (str(refused.value), refused.value.field) == (
        "a shipping address is required for prints", "shipping"
    )
