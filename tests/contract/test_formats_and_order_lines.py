"""Formats of a photo and the lines, address and shipping of an order, on every storage."""

from __future__ import annotations

from dataclasses import replace

from framesell.application.ports import UnitOfWorkFactory
from framesell.domain.models import (
    Format,
    FormatKind,
    OrderItem,
    PaymentStatus,
    ShippingAddress,
)
from framesell.domain.money import Money
from tests.contract.helpers import a_product, an_order, save_shopper_and_product


def test_a_new_product_is_sold_as_a_digital_download_at_its_price(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        stored = uow.products.add(a_product(5_999))
        uow.commit()
    (digital,) = stored.formats
    assert digital.id is not None
    assert (digital.kind, digital.label, digital.price) == (
        FormatKind.DIGITAL,
        "Digital download",
        Money(5_999),
    )
    with uow_factory() as uow:
        assert uow.products.get(stored.id or 0) == stored


def test_print_sizes_are_added_changed_and_removed_after_the_download(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        product = uow.products.add(a_product(2_000))
        small = uow.products.add_format(
            product.id or 0, Format.print_size("20x30 cm", Money(4_500))
        )
        large = uow.products.add_format(
            product.id or 0, Format.print_size("50x75 cm", Money(9_900))
        )
        uow.commit()
    assert small.id is not None and large.id is not None and small.id != large.id
    with uow_factory() as uow:
        listed = next(p for p in uow.products.list_active() if p.id == product.id)
    assert [f.kind for f in listed.formats] == [
        FormatKind.DIGITAL,
        FormatKind.PRINT,
        FormatKind.PRINT,
    ]
    assert listed.formats[1:] == (small, large)

    with uow_factory() as uow:
        uow.products.update_format(
            product.id or 0, replace(small, label="20x30", price=Money(5_000))
        )
        uow.products.remove_format(product.id or 0, large.id)
        uow.commit()
    with uow_factory() as uow:
        reread = uow.products.get(product.id or 0)
    assert reread is not None
    assert reread.formats[1:] == (Format(small.id, FormatKind.PRINT, "20x30", Money(5_000)),)


def test_changing_a_product_keeps_its_print_sizes_and_moves_the_download_price(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        product = uow.products.add(a_product(2_000))
        size = uow.products.add_format(product.id or 0, Format.print_size("A4", Money(4_000)))
        uow.commit()
    with uow_factory() as uow:
        uow.products.update(
            replace(product, price=Money(2_500), file_url="https://files.example.com/full.tif")
        )
        uow.commit()
    with uow_factory() as uow:
        reread = uow.products.get(product.id or 0)
    assert reread is not None
    assert reread.price == Money(2_500)
    assert reread.file_url == "https://files.example.com/full.tif"
    assert [(f.kind, f.price) for f in reread.formats] == [
        (FormatKind.DIGITAL, Money(2_500)),
        (FormatKind.PRINT, size.price),
    ]


def test_an_order_keeps_its_lines_address_and_shipping_price(
    uow_factory: UnitOfWorkFactory,
) -> None:
    address = ShippingAddress.new(
        name="Zoë Çelik",
        line1="1 Main St",
        line2="Apt 2",
        city="Brooklyn",
        postal_code="11201",
        country="us",
    )
    with uow_factory() as uow:
        user, product = save_shopper_and_product(uow, 2_000)
        size = uow.products.add_format(product.id or 0, Format.print_size("30x45 cm", Money(7_500)))
        base = an_order(user, product)
        lines = (
            base.items[0],
            OrderItem(
                id=2,
                product_id=product.id or 0,
                description=product.description,
                url=product.url,
                format_id=size.id,
                kind=FormatKind.PRINT,
                label=size.label,
                quantity=3,
                price=size.price,
            ),
        )
        order = uow.orders.add(
            replace(base, items=lines, shipping=address, shipping_price=Money(900))
        )
        uow.commit()
    assert order.amount == Money(2_000 + 3 * 7_500 + 900)
    with uow_factory() as uow:
        assert uow.orders.get(order.id or 0) == order
        assert uow.orders.list_for_user(user.id or 0) == [order]
        (summary,) = uow.orders.list_for_account(user.id or 0) or []
    assert summary == order.summary()
    assert summary.total == Money(25_400)
    assert address.country == "US"


def test_an_order_without_prints_has_no_address_or_shipping(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        user, product = save_shopper_and_product(uow, 3_000)
        order = uow.orders.add(an_order(user, product, status=PaymentStatus.PENDING))
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
    assert reread is not None
    assert (reread.shipping, reread.shipping_price, reread.amount) == (None, None, Money(3_000))
    assert [item.kind for item in reread.items] == [FormatKind.DIGITAL]
