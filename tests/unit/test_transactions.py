"""application.transactions: a write conflict reruns the transaction, a bounded number of times."""

from __future__ import annotations

from types import TracebackType

import pytest

from framesell.adapters.memory import MemoryUnitOfWork, MemoryUnitOfWorkFactory
from framesell.application.catalog import CatalogService
from framesell.application.transactions import PAUSE_SECONDS, TRIES, retrying
from framesell.domain.errors import ProductNotFound, WriteConflict
from framesell.domain.models import Product
from framesell.domain.money import Money


class ConflictingUnitOfWork(MemoryUnitOfWork):
    """Its commit loses to another node's write (rolls back, raises WriteConflict) while told to."""

    def __init__(self, factory: ConflictingFactory) -> None:
        super().__init__(factory.store)
        self._factory = factory

    def commit(self) -> None:
        if self._factory.conflicts_left > 0:
            self._factory.conflicts_left -= 1
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
