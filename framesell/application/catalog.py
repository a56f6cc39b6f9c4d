"""The catalog service: what is on sale and at what price."""

from __future__ import annotations

from dataclasses import replace

from framesell.application.ports import UnitOfWorkFactory
from framesell.domain.errors import ProductNotFound
from framesell.domain.models import Product
from framesell.domain.money import Money


class CatalogService:
    """Lists and looks up the photos on sale."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def list_products(self) -> list[Product]:
        """Return every product on sale, ordered by id."""
        with self._uow() as uow:
            return uow.products.list_active()

    def product_for_sale(self, product_id: int) -> Product:
        """Return one product on sale; raise ProductNotFound for unknown or withdrawn ones."""
        with self._uow() as uow:
            product = uow.products.get(product_id)
        if product is None or not product.active:
            raise ProductNotFound()
        return product

    def add_product(self, description: str, url: str, price: Money) -> Product:
        """Put a new product on sale and return it with its id; raise InvalidInput."""
        product = Product.new(description, url, price)
        with self._uow() as uow:
            stored = uow.products.add(product)
            uow.commit()
        return stored

    def update_product(self, product_id: int, description: str, url: str, price: Money) -> Product:
        """Replace a product's description, picture and price; past orders keep theirs."""
        changed = Product.new(description, url, price)
        with self._uow() as uow:
            current = uow.products.get(product_id)
            if current is None or not current.active:
                raise ProductNotFound()
            updated = Product(product_id, changed.description, changed.url, changed.price)
            uow.products.update(updated)
            uow.commit()
        return updated

    def withdraw_product(self, product_id: int) -> None:
        """Take a product off sale; it stays stored, so every order's snapshot stays intact."""
        with self._uow() as uow:
            current = uow.products.get(product_id)
            if current is None or not current.active:
                raise ProductNotFound()
            uow.products.update(replace(current, active=False))
            uow.commit()

    def import_products(self, entries: list[tuple[str, str, Money]]) -> list[Product]:
        """Add many products in one transaction: all of them, or none if one is invalid."""
        products = [Product.new(description, url, price) for description, url, price in entries]
        with self._uow() as uow:
            stored = [uow.products.add(product) for product in products]
            uow.commit()
        return stored

    def is_empty(self) -> bool:
        """Whether nothing is on sale (a fresh database)."""
        return not self.list_products()
