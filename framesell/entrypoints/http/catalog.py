"""The public catalog of photos."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cornice import Service
from cornice.validators import colander_body_validator
from pyramid.request import Request
from pyramid.response import Response

from framesell.domain.errors import ProductNotFound
from framesell.domain.money import Money
from framesell.entrypoints.http.errors import validation_failed
from framesell.entrypoints.http.schemas import ProductSchema
from framesell.entrypoints.http.security import admin_user
from framesell.entrypoints.http.serializers import product_json

products = Service(
    name="products",
    path="/api/product/",
    description="The catalog; admins add products.",
    error_handler=validation_failed,
)
product = Service(
    name="product",
    path="/api/product/{id}/",
    description="One product; admins change or withdraw it.",
    error_handler=validation_failed,
)


def _admin_then_validate(request: Request, **kwargs: Any) -> None:
    # Only an admin learns whether a body would have been valid.
    admin_user(request)
    colander_body_validator(request, **kwargs)


def _product_id(request: Request) -> int:
    raw_id = str(request.matchdict["id"])
    if not raw_id.isdigit() or len(raw_id) > 18:
        raise ProductNotFound()
    return int(raw_id)


def _fields(request: Request) -> tuple[str, str, Money]:
    body = request.validated
    return body["description"], body["url"], Money.from_major(body["price"], body["currency"])


def cacheable_json(request: Request, data: Any) -> Response:
    """A JSON response with a strong ETag; a matching If-None-Match gets 304."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    response = Response(body=body, content_type="application/json", charset="utf-8")
    response.etag = hashlib.sha256(body).hexdigest()[:32]
    response.cache_control = "no-cache"  # may be stored, but revalidated every time
    response.conditional_response = True
    return response


@products.get()
def list_products(request: Request) -> Response:
    """Every product on sale, ordered by id."""
    catalog = request.services.catalog.list_products()
    return cacheable_json(request, [product_json(p) for p in catalog])


@products.post(
    schema=ProductSchema(), validators=(_admin_then_validate,), content_type=("application/json",)
)
def add_product(request: Request) -> dict[str, Any]:
    """201 with the new product (admins only)."""
    added = request.services.catalog.add_product(*_fields(request))
    request.response.status = 201
    return product_json(added)


@product.get()
def show_product(request: Request) -> Response:
    """One product on sale, or 404."""
    found = request.services.catalog.product_for_sale(_product_id(request))
    return cacheable_json(request, product_json(found))


@product.put(
    schema=ProductSchema(), validators=(_admin_then_validate,), content_type=("application/json",)
)
def replace_product(request: Request) -> dict[str, Any]:
    """200 with the changed product; orders already placed keep the price they paid."""
    changed = request.services.catalog.update_product(_product_id(request), *_fields(request))
    return product_json(changed)


@product.delete()
def withdraw_product(request: Request) -> Response:
    """204: the product leaves the catalog; its orders keep their snapshots."""
    admin_user(request)
    request.services.catalog.withdraw_product(_product_id(request))
    return Response(status=204)
