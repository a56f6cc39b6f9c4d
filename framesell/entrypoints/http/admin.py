"""The owner's view of the shop: every shopper's orders, searched and paginated."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from framesell.application.orders import order_search
from framesell.entrypoints.http.errors import Endpoint
from framesell.entrypoints.http.openapi import responses
from framesell.entrypoints.http.response_schemas import ErrorsJson, OrderPageJson
from framesell.entrypoints.http.schemas import ORDER_SEARCH
from framesell.entrypoints.http.security import ADMIN
from framesell.entrypoints.http.serializers import shopper_order_json

admin_orders = Endpoint(
    name="admin_orders",
    path="/api/admin/orders/",
    description="Every shopper's orders, newest first (admin).",
)


@admin_orders.get(permission=ADMIN)
@responses({200: OrderPageJson, 400: ErrorsJson, 503: ErrorsJson}, query=ORDER_SEARCH)
def list_every_order(request: Request) -> dict[str, Any]:
    """One page of every shopper's orders, newest first, filtered by status and searched by
    order id or the beginning of the shopper's email; 400 for a value it cannot use."""
    params = request.GET
    found = request.shop.orders.search_orders(
        order_search(
            status=params.get("status", ""),
            query=params.get("q", ""),
            page=params.get("page", ""),
            per_page=params.get("per_page", ""),
        )
    )
    return {
        "orders": [shopper_order_json(o) for o in found.orders],
        "total": found.total,
        "page": found.page,
        "per_page": found.per_page,
    }
