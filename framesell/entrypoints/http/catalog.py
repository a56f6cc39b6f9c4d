"""The public catalog of photos."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from cornice.validators import colander_body_validator
from pyramid.request import Request
from pyramid.response import Response

from framesell.application.catalog import CatalogListing, CatalogService
from framesell.domain.errors import FormatNotFound, ProductNotFound
from framesell.domain.money import Money
from framesell.entrypoints.http.encoded import EncodedJson, cacheable_json
from framesell.entrypoints.http.errors import Endpoint, validation_failed
from framesell.entrypoints.http.openapi import responses
from framesell.entrypoints.http.response_schemas import (
    CatalogProductJson,
    ErrorsJson,
    FormatJson,
    ProductFileJson,
    ProductListJson,
)
from framesell.entrypoints.http.schemas import (
    IF_NONE_MATCH,
    FormatSchema,
    ProductFileSchema,
    ProductSchema,
)
from framesell.entrypoints.http.security import ADMIN, PUBLIC
from framesell.entrypoints.http.serializers import format_json, product_json

products = Endpoint(
    name="products",
    path="/api/product/",
    description="The catalog; admins add products.",
    error_handler=validation_failed,
)
product = Endpoint(
    name="product",
    path="/api/product/{id}/",
    description="One product; admins change or withdraw it.",
    error_handler=validation_failed,
)


product_formats = Endpoint(
    name="product_formats",
    path="/api/product/{id}/formats/",
    description="Sell a photo as a print in one more size (admin).",
    error_handler=validation_failed,
)
product_format = Endpoint(
    name="product_format",
    path="/api/product/{id}/formats/{format}/",
    description="Change or stop selling one print size of a photo (admin).",
    error_handler=validation_failed,
)
product_file = Endpoint(
    name="product_file",
    path="/api/product/{id}/file/",
    description="The full-resolution file a digital purchase delivers (admin).",
    error_handler=validation_failed,
)


def _format_id(request: Request) -> int:
    raw_id = str(request.matchdict["format"])
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
        raise FormatNotFound()
    return int(raw_id)


def _format_fields(request: Request) -> tuple[str, Money]:
    body = request.validated
    return body["label"], Money.from_major(body["price"], body["currency"])


def _product_id(request: Request) -> int:
    raw_id = str(request.matchdict["id"])
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:  # not "²" or "٣"
        raise ProductNotFound()
    return int(raw_id)


def _fields(request: Request) -> tuple[str, str, Money]:
    body = request.validated
    return body["description"], body["url"], Money.from_major(body["price"], body["currency"])


@dataclass
class EncodedCatalog:
    """The JSON of one CatalogListing (the list, and each product on demand)."""

    listing: CatalogListing
    all: EncodedJson
    each: dict[int, EncodedJson] = field(default_factory=dict)

    def product(self, product_id: int) -> EncodedJson:
        """The encoded product, or ProductNotFound if the listing does not have it."""
        encoded = self.each.get(product_id)
        if encoded is None:
            found = self.listing.by_id.get(product_id)
            if found is None:
                raise ProductNotFound()
            encoded = self.each[product_id] = EncodedJson.of(product_json(found))
        return encoded


# Where each app keeps the encoded catalog (Pyramid's registry is a dict per app).
_ENCODED_CATALOG = "framesell.encoded_catalog"


def encoded_catalog(request: Request) -> EncodedCatalog:
    """The catalog's JSON, encoded again only when the service returns a new listing."""
    return current_encoded_catalog(request.shop.catalog, request.registry)


def current_encoded_catalog(
    catalog: CatalogService, cache: MutableMapping[str, Any]
) -> EncodedCatalog:
    """The encoded listing kept in ``cache`` (the app's registry), renewed with the listing."""
    listing = catalog.listing()
    encoded: EncodedCatalog | None = cache.get(_ENCODED_CATALOG)
    if encoded is None or encoded.listing is not listing:
        # Two threads may both encode a new listing; either result is right.
        everything = EncodedJson.of([product_json(p) for p in listing.products])
        encoded = EncodedCatalog(listing, everything)
        cache[_ENCODED_CATALOG] = encoded
    return encoded


@products.get(permission=PUBLIC)
@responses({200: ProductListJson, 304: None, 503: ErrorsJson}, headers=[IF_NONE_MATCH])
def list_products(request: Request) -> Response:
    """Every product on sale, ordered by id (304 if the client's ETag is still current)."""
    return cacheable_json(request, encoded_catalog(request).all)


@products.post(
    schema=ProductSchema(),
    validators=(colander_body_validator,),
    content_type=("application/json",),
    permission=ADMIN,
)
@responses({201: CatalogProductJson, 503: ErrorsJson})
def add_product(request: Request) -> dict[str, Any]:
    """201 with the new product (admins only)."""
    added = request.shop.catalog.add_product(*_fields(request))
    request.response.status = 201
    return product_json(added)


@product.get(permission=PUBLIC)
@responses(
    {200: CatalogProductJson, 304: None, 404: ErrorsJson, 503: ErrorsJson}, headers=[IF_NONE_MATCH]
)
def show_product(request: Request) -> Response:
    """One product on sale, or 404."""
    return cacheable_json(request, encoded_catalog(request).product(_product_id(request)))


@product.put(
    schema=ProductSchema(),
    validators=(colander_body_validator,),
    content_type=("application/json",),
    permission=ADMIN,
)
@responses({200: CatalogProductJson, 404: ErrorsJson, 503: ErrorsJson})
def replace_product(request: Request) -> dict[str, Any]:
    """200 with the changed product; orders already placed keep the price they paid."""
    changed = request.shop.catalog.update_product(_product_id(request), *_fields(request))
    return product_json(changed)


@product.delete(permission=ADMIN)
@responses({204: None, 404: ErrorsJson, 503: ErrorsJson})
def withdraw_product(request: Request) -> Response:
    """204: the product leaves the catalog; its orders keep their snapshots."""
    request.shop.catalog.withdraw_product(_product_id(request))
    return Response(status=204)


@product_formats.post(
    schema=FormatSchema(),
    validators=(colander_body_validator,),
    content_type=("application/json",),
    permission=ADMIN,
)
@responses({201: FormatJson, 404: ErrorsJson, 503: ErrorsJson})
def add_format(request: Request) -> dict[str, Any]:
    """201 with the new print size; the catalog lists it after the digital download."""
    added = request.shop.catalog.add_format(_product_id(request), *_format_fields(request))
    request.response.status = 201
    return format_json(added)


@product_format.put(
    schema=FormatSchema(),
    validators=(colander_body_validator,),
    content_type=("application/json",),
    permission=ADMIN,
)
@responses({200: FormatJson, 404: ErrorsJson, 503: ErrorsJson})
def replace_format(request: Request) -> dict[str, Any]:
    """200 with the changed print size; orders already placed keep what they paid.

    The digital download's price is the photo's ``price``: change it with PUT on the photo.
    """
    changed = request.shop.catalog.update_format(
        _product_id(request), _format_id(request), *_format_fields(request)
    )
    return format_json(changed)


@product_format.delete(permission=ADMIN)
@responses({204: None, 400: ErrorsJson, 404: ErrorsJson, 503: ErrorsJson})
def remove_format(request: Request) -> Response:
    """204: the photo is no longer sold in this size (the download cannot be removed)."""
    request.shop.catalog.remove_format(_product_id(request), _format_id(request))
    return Response(status=204)


@product_file.get(permission=ADMIN)
@responses({200: ProductFileJson, 404: ErrorsJson, 503: ErrorsJson})
def show_file(request: Request) -> dict[str, Any]:
    """The photo's full-resolution file (null while none is set)."""
    product_id = _product_id(request)
    found = request.shop.catalog.product_for_sale(product_id)
    return {"id": product_id, "file": found.file_url}


@product_file.put(
    schema=ProductFileSchema(),
    validators=(colander_body_validator,),
    content_type=("application/json",),
    permission=ADMIN,
)
@responses({200: ProductFileJson, 404: ErrorsJson, 503: ErrorsJson})
def set_file(request: Request) -> dict[str, Any]:
    """Set the file a paid digital purchase of the photo is sent to (never in the catalog)."""
    product_id = _product_id(request)
    request.shop.catalog.set_file(product_id, request.validated["file"])
    return {"id": product_id, "file": request.validated["file"]}
