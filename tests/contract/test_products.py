"""The ProductRepository contract, run against every storage adapter."""

from __future__ import annotations

from dataclasses import replace

from framesell.application.ports import UnitOfWorkFactory
from framesell.domain.money import Money
from tests.contract.helpers import a_product


def test_an_added_product_gets_an_id_and_reads_back_the_same(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        stored = uow.products.add(a_product(5_999))
        assert stored.id is not None
        assert uow.products.get(stored.id) == stored
    assert stored.price == Money(5_999, "usd")


def test_active_products_are_listed_by_id_without_the_inactive_ones(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        first = uow.products.add(a_product())
        hidden = uow.products.add(a_product(active=False))
        second = uow.products.add(a_product())
        listed = uow.products.list_active()
    assert listed == [first, second]
    assert hidden not in listed


def test_get_returns_an_inactive_product_too(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        hidden = uow.products.add(a_product(active=False))
        assert uow.products.get(hidden.id or 0) == hidden


def test_an_unknown_product_is_none(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.products.get(987_654) is None


def test_an_updated_product_keeps_its_id_and_takes_the_new_fields(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        product = uow.products.add(a_product(10_000))
        changed = replace(
            product,
            description="Manhattan Bridge at dusk",
            url="https://example.com/photos/manhattan.jpg",
            price=Money(12_345),
            active=False,
        )
        uow.products.update(changed)
        uow.commit()
    # The digital download's price is the product's price.
    (digital,) = product.formats
    expected = replace(changed, formats=(replace(digital, price=Money(12_345)),))
    with uow_factory() as uow:
        assert uow.products.get(product.id or 0) == expected
        assert expected not in uow.products.list_active()


def test_updating_an_unknown_product_changes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.products.update(replace(a_product(), id=987_654))
        assert uow.products.get(987_654) is None


def test_a_description_with_any_unicode_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    description = "Pont de Brooklyn 🌉 — Ünïcödé, 東京, emoji 📸"
    with uow_factory() as uow:
        stored = uow.products.add(a_product(description=description))
        uow.commit()
    with uow_factory() as uow:
        reread = uow.products.get(stored.id or 0)
    assert reread is not None and reread.description == description


def test_the_largest_price_round_trips_exactly(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        stored = uow.products.add(a_product(99_999_999))
        reread = uow.products.get(stored.id or 0)
    assert reread is not None and reread.price == Money(99_999_999)


def test_every_product_write_moves_the_catalog_version_and_reads_do_not(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        start = uow.products.version()
        added = uow.products.add(a_product())
        after_add = uow.products.version()
        uow.products.list_active()
        uow.products.get(added.id or 0)
        assert uow.products.version() == after_add
        uow.products.update(replace(added, active=False))
        after_update = uow.products.version()
        uow.commit()
    assert len({start, after_add, after_update}) == 3
    with uow_factory() as uow:
        assert uow.products.version() == after_update


def test_a_rolled_back_product_write_leaves_the_catalog_version_as_it_was(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        before = uow.products.version()
        uow.products.add(a_product())
    with uow_factory() as uow:
        assert uow.products.version() == before
