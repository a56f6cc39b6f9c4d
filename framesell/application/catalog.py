"""The catalog service: what is on sale and at what price."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from framesell.application.ports import Clock, UnitOfWorkFactory
from framesell.application.transactions import retrying
from framesell.domain.errors import FormatNotFound, InvalidInput, ProductNotFound
from framesell.domain.models import Format, FormatKind, Product, validate_image_url
from framesell.domain.money import Money

# How long a process trusts its copy of the catalog before asking the store's version
# again: a change made through another process is seen within this time (plus one query).
DEFAULT_RECHECK = timedelta(milliseconds=500)


@dataclass(frozen=True, eq=False)
class CatalogListing:
    """The products on sale as of one catalog version; the same object until it changes.

    Callers may cache what they derive from a listing (an encoded body, an ETag) for as
    long as ``listing()`` keeps returning the very same object.
    """

    version: int
    products: tuple[Product, ...]
    by_id: dict[int, Product] = field(repr=False)

    @classmethod
    def of(cls, version: int, products: list[Product]) -> CatalogListing:
        """A listing of these products at this version."""
        return cls(version, tuple(products), {p.id: p for p in products if p.id is not None})


class CatalogService:
    """Lists and looks up the photos on sale; keeps the listing in memory per process.

    The listing is re-read only when the store's catalog version changed, and the version
    is asked at most once per ``recheck_every`` (zero: on every call). Writes through this
    service are seen at once by it; writes through another process within that interval.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock | None = None,
        recheck_every: timedelta = timedelta(0),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._recheck_every = recheck_every if clock is not None else timedelta(0)
        self._refresh_lock = threading.Lock()
        self._listing: CatalogListing | None = None
        self._checked_at: datetime | None = None
        self._writes = 0  # bumped by this service's own writes, so a racing refresh is redone

    def listing(self) -> CatalogListing:
        """The products on sale, from memory while the stored catalog version is unchanged."""
        now = self._clock.now() if self._clock is not None else None
        listing = self._listing
        if listing is not None and self._is_fresh(now):
            return listing
        with self._refresh_lock:
            listing = self._listing
            if listing is not None and self._is_fresh(now):
                return listing  # another thread refreshed it meanwhile
            writes = self._writes
            with self._uow() as uow:
                # The version first: a write committed between the two reads then only
                # makes the next check reload, never labels old products with a new version.
                version = uow.products.version()
                if listing is None or listing.version != version:
                    listing = CatalogListing.of(version, uow.products.list_active())
            self._listing = listing
            self._checked_at = now if writes == self._writes else None
            return listing

    def _is_fresh(self, now: datetime | None) -> bool:
        checked_at = self._checked_at
        if now is None or checked_at is None or not self._recheck_every:
            return False
        return timedelta(0) <= now - checked_at < self._recheck_every

    def _changed(self) -> None:
        """Forget the check time after a write of ours, so the next listing re-reads."""
        self._writes += 1
        self._checked_at = None

    def list_products(self) -> list[Product]:
        """Return every product on sale, ordered by id."""
        return list(self.listing().products)

    def product_for_sale(self, product_id: int) -> Product:
        """Return one product on sale, read from the store (never from the cached listing).

        Raise ProductNotFound for unknown or withdrawn ones. Buying reads the store, so a
        price change or withdrawal made a moment ago elsewhere is already what is charged.
        """
        with self._uow() as uow:
            product = uow.products.get(product_id)
        if product is None or not product.active:
            raise ProductNotFound()
        return product

    def add_product(self, description: str, url: str, price: Money) -> Product:
        """Put a new product on sale and return it with its id; raise InvalidInput."""
        product = Product.new(description, url, price)
        for transaction in retrying(self._uow):
            with transaction as uow:
                stored = uow.products.add(product)
                uow.commit()
        self._changed()
        return stored

    def update_product(self, product_id: int, description: str, url: str, price: Money) -> Product:
        """Replace a product's description, picture and price; past orders keep theirs."""
        changed = Product.new(description, url, price)
        for transaction in retrying(self._uow):
            with transaction as uow:
                current = uow.products.get(product_id)
                if current is None or not current.active:
                    raise ProductNotFound()
                formats = tuple(
                    replace(f, price=changed.price) if f.kind is FormatKind.DIGITAL else f
                    for f in current.formats
                )
                updated = replace(
                    current,
                    description=changed.description,
                    url=changed.url,
                    price=changed.price,
                    formats=formats,
                )
                uow.products.update(updated)
                uow.commit()
        self._changed()
        return updated

    def withdraw_product(self, product_id: int) -> None:
        """Take a product off sale; it stays stored, so every order's snapshot stays intact."""
        for transaction in retrying(self._uow):
            with transaction as uow:
                current = uow.products.get(product_id)
                if current is None or not current.active:
                    raise ProductNotFound()
                uow.products.update(replace(current, active=False))
                uow.commit()
        self._changed()

    def add_format(self, product_id: int, label: str, price: Money) -> Format:
        """Sell a photo as a print in one more size; return the stored format."""
        new = Format.print_size(label, price)
        for transaction in retrying(self._uow):
            with transaction as uow:
                self._on_sale(uow.products.get(product_id))
                stored = uow.products.add_format(product_id, new)
                uow.commit()
        self._changed()
        return stored

    def update_format(self, product_id: int, format_id: int, label: str, price: Money) -> Format:
        """Change a print size's label and price; the digital download's price is the
        product's (change the product). Orders already placed keep what they paid."""
        for transaction in retrying(self._uow):
            with transaction as uow:
                product = self._on_sale(uow.products.get(product_id))
                current = self._print_format(product, format_id)
                changed = Format.print_size(label, price)
                updated = replace(current, label=changed.label, price=changed.price)
                uow.products.update_format(product_id, updated)
                uow.commit()
        self._changed()
        return updated

    def remove_format(self, product_id: int, format_id: int) -> None:
        """Stop selling a photo in one print size."""
        for transaction in retrying(self._uow):
            with transaction as uow:
                product = self._on_sale(uow.products.get(product_id))
                self._print_format(product, format_id)
                uow.products.remove_format(product_id, format_id)
                uow.commit()
        self._changed()

    def set_file(self, product_id: int, file_url: str) -> None:
        """Set the full-resolution file a digital purchase of the photo delivers."""
        checked = validate_image_url(file_url)
        for transaction in retrying(self._uow):
            with transaction as uow:
                product = self._on_sale(uow.products.get(product_id))
                uow.products.update(replace(product, file_url=checked))
                uow.commit()
        self._changed()

    @staticmethod
    def _on_sale(product: Product | None) -> Product:
        if product is None or not product.active:
            raise ProductNotFound()
        return product

    @staticmethod
    def _print_format(product: Product, format_id: int) -> Format:
        found = next((f for f in product.formats if f.id == format_id), None)
        if found is None:
            raise FormatNotFound()
        if found.kind is not FormatKind.PRINT:
            raise InvalidInput(
                "the digital download's price is the photo's price: change the photo",
                field="format",
            )
        return found

    def import_products(self, entries: list[tuple[str, str, Money]]) -> list[Product]:
        """Add many products in one transaction: all of them, or none if one is invalid."""
        products = [Product.new(description, url, price) for description, url, price in entries]
        for transaction in retrying(self._uow):
            with transaction as uow:
                stored = [uow.products.add(product) for product in products]
                uow.commit()
        self._changed()
        return stored

    def is_empty(self) -> bool:
        """Whether nothing is on sale (a fresh database)."""
        return not self.list_products()
