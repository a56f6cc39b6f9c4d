"""Buying a photo and listing the caller's orders."""

from __future__ import annotations

from typing import Any

from cornice import Service
from cornice.validators import colander_body_validator
from pyramid.request import Request

from framesell.application.orders import Placement
from framesell.application.ports import PaymentOutcome
from framesell.domain.errors import InvalidInput, OrderNotFound, PaymentUnavailable, ProductNotFound
from framesell.domain.models import PaymentStatus
from framesell.entrypoints.http.errors import validation_failed
from framesell.entrypoints.http.schemas import PlaceOrderSchema
from framesell.entrypoints.http.security import authenticated_user
from framesell.entrypoints.http.serializers import order_json

orders = Service(
    name="orders",
    path="/api/order/",
    description="The caller's orders; buy a photo.",
    error_handler=validation_failed,
)
order = Service(name="order", path="/api/order/{id}/", description="One of the caller's orders.")


def _authenticate_then_validate(request: Request, **kwargs: Any) -> None:
    # A request without a valid token is 403 whatever its body says.
    authenticated_user(request)
    colander_body_validator(request, **kwargs)


@orders.get()
def list_orders(request: Request) -> list[dict[str, Any]]:
    """The caller's orders, oldest first."""
    user = authenticated_user(request)
    return [order_json(o) for o in request.services.orders.list_orders(user.id)]


@orders.post(
    schema=PlaceOrderSchema(),
    validators=(_authenticate_then_validate,),
    content_type=("application/json",),
)
def place_order(request: Request) -> dict[str, Any]:
    """201 paid, 402 declined or 3-D Secure needed, 503 payment service unavailable."""
    user = authenticated_user(request)
    body = request.validated
    try:
        placement = request.services.orders.place_order(user.id, body["product"], body["token"])
    except ProductNotFound:
        raise InvalidInput("unknown product", field="product") from None
    status, payload = placement_response(placement)
    request.response.status = status
    return payload


def placement_response(placement: Placement) -> tuple[int, dict[str, Any]]:
    """The status code and body API.md gives for how an order's payment went."""
    order_body = order_json(placement.order)
    status = placement.order.status
    if status is PaymentStatus.PAID:
        return 201, {"success": True, "order": order_body}
    if status is PaymentStatus.FAILED:
        message = placement.message or "Your card was declined."
        return 402, {"success": False, "error": message, "order": order_body}
    if placement.outcome is PaymentOutcome.REQUIRES_ACTION:
        return 402, {
            "success": False,
            "requires_action": True,
            "client_secret": placement.client_secret,
            "order": order_body,
        }
    if placement.outcome is PaymentOutcome.PENDING:
        # The gateway accepted the payment and settles it later (webhook or reconcile).
        return 202, {"success": True, "pending": True, "order": order_body}
    return 503, {"success": False, "error": PaymentUnavailable.message, "order": order_body}


@order.get()
def show_order(request: Request) -> dict[str, Any]:
    """One of the caller's orders; another shopper's or an unknown id is 404."""
    user = authenticated_user(request)
    raw_id = request.matchdict["id"]
    if not raw_id.isdigit() or len(raw_id) > 18:
        raise OrderNotFound()
    return order_json(request.services.orders.get_order(user.id, int(raw_id)))
