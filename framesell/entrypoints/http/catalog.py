"""The public catalog of photos."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cornice import Service
from pyramid.request import Request
from pyramid.response import Response

from framesell.domain.errors import ProductNotFound
from framesell.entrypoints.http.serializers import product_json

products = Service(name="products", path="/api/product/", description="The catalog.")
product = Service(name="product", path="/api/product/{id}/", description="One product.")


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


@product.get()
def show_product(request: Request) -> Response:
    """One product on sale, or 404."""
    raw_id = request.matchdict["id"]
    if not raw_id.isdigit() or len(raw_id) > 18:
        raise ProductNotFound()
    return cacheable_json(
        request, product_json(request.services.catalog.product_for_sale(int(raw_id)))
    )
