"""Buying a photo, settling it after 3-D Secure, refunds, and listing the caller's orders."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import colander
from cornice.validators import colander_body_validator
from pyramid.httpexceptions import HTTPUnsupportedMediaType
from pyramid.request import Request
from pyramid.response import Response

from framesell.application.idempotency import MAX_KEY_LENGTH, Answer
from framesell.application.orders import Placement, Purchase
from framesell.application.ports import PaymentOutcome
from framesell.domain.errors import (
    InvalidInput,
    OrderNotFound,
    PaymentUnavailable,
    ProductNotFound,
)
from framesell.domain.models import CHARGED_STATUSES, CartLine, PaymentStatus, ShippingAddress
from framesell.domain.money import Money
from framesell.entrypoints.http.client_addresses import client_address
from framesell.entrypoints.http.encoded import cacheable_json
from framesell.entrypoints.http.errors import Endpoint, FailureShape, validation_failed
from framesell.entrypoints.http.openapi import responses
from framesell.entrypoints.http.order_lists import encoded_order_lists
from framesell.entrypoints.http.response_schemas import (
    AuthenticationRequiredJson,
    ErrorsJson,
    FailureJson,
    OrderJson,
    OrderListJson,
    OrderPendingJson,
    OrderPlacedJson,
    PaymentFailedJson,
)
from framesell.entrypoints.http.schemas import (
    IDEMPOTENCY_KEY,
    IF_NONE_MATCH,
    PlaceOrderSchema,
    RefundSchema,
)
from framesell.entrypoints.http.security import (
    ADMIN,
    SHOPPER,
    authenticated_user,
    authenticated_user_id,
    remember_user_id,
)
from framesell.entrypoints.http.serializers import order_json

orders = Endpoint(
    name="orders",
    path="/api/order/",
    description="The caller's orders; buy a photo.",
    error_handler=validation_failed,
    error_shape=FailureShape(),  # the original's
)
order = Endpoint(name="order", path="/api/order/{id}/", description="One of the caller's orders.")
confirm = Endpoint(
    name="order_confirm",
    path="/api/order/{id}/confirm/",
    description="Settle an order after 3-D Secure.",
)
refund = Endpoint(
    name="order_refund", path="/api/order/{id}/refund/", description="Refund a paid order (admin)."
)


def _authenticate_then_validate(request: Request, **kwargs: Any) -> None:
    # A request without a valid token is 403 whatever its body says.
    authenticated_user(request)
    colander_body_validator(request, **kwargs)
    try:
        body = request.json_body
    except ValueError:
        return  # an unreadable body: its own error says so
    if not isinstance(body, dict):
        return
    if body.get("product") in (None, "") and body.get("items") is None:
        # The original's error for a body without the product to buy.
        request.errors.add("body", "product", "Required")


def _caller_id(request: Request) -> int:
    user = authenticated_user(request)
    assert user.id is not None  # stored users always have one
    return user.id


def _order_id(request: Request) -> int:
    raw_id = str(request.matchdict["id"])
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:  # not "²" or "٣"
        raise OrderNotFound()
    return int(raw_id)


def _idempotency_key(request: Request) -> str | None:
    if "Idempotency-Key" not in request.headers:
        return None
    key = str(request.headers["Idempotency-Key"])
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            field="Idempotency-Key",
        )
    return key


def _fingerprint(request: Request, body: dict[str, Any]) -> str:
    """The same request means the same path and the same validated body."""
    canonical = json.dumps([request.path_info, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _json(request: Request, status: int, payload: dict[str, Any]) -> dict[str, Any]:
    request.response.status = status
    return payload


@orders.get(permission=SHOPPER)
@responses({200: OrderListJson, 304: None, 503: FailureJson}, headers=[IF_NONE_MATCH])
def list_orders(request: Request) -> Response:
    """The caller's orders, oldest first (304 if the client's ETag is still current)."""
    # Unchanged since this process last encoded it: one primary-key read, no orders read.
    user_id = authenticated_user_id(request)
    encoded = encoded_order_lists(request).current(user_id)
    remember_user_id(request, user_id)
    return cacheable_json(request, encoded)


@orders.post(
    schema=PlaceOrderSchema(),
    validators=(_authenticate_then_validate,),
    content_type=("application/json",),
    permission=SHOPPER,
)
@responses(
    {
        201: OrderPlacedJson,
        202: OrderPendingJson,
        402: (PaymentFailedJson, AuthenticationRequiredJson),
        409: FailureJson,
        422: FailureJson,
        429: FailureJson,
        503: (PaymentFailedJson, FailureJson),
    },
    headers=[IDEMPOTENCY_KEY],
)
def place_order(request: Request) -> dict[str, Any] | Response:
    """201 paid, 402 declined or 3-D Secure needed, 503 payment service unavailable.

    With an ``Idempotency-Key`` the first answer is stored and replayed for repeats; a
    503 is not final, so a retry with the same key continues the same order.
    """
    user_id = _caller_id(request)
    body, purchase = _purchase(request.validated)
    key = _idempotency_key(request)
    try:
        placed = request.shop.place_order_once(
            user_id,
            purchase,
            body["token"],
            key=key,
            fingerprint=_fingerprint(request, body),
            render=_answer,
            client_address=client_address(request),
        )
    except ProductNotFound:
        raise InvalidInput("unknown product", field="product") from None
    if placed.replayed is not None:
        response = Response(status=placed.replayed.status, body=placed.replayed.body.encode())
        response.content_type = "application/json"
        response.charset = "utf-8"
        response.headers["Idempotent-Replayed"] = "true"
        return response
    assert placed.placement is not None
    return _json(request, *placement_response(placed.placement))


def _purchase(validated: dict[str, Any]) -> tuple[dict[str, Any], Purchase]:
    """The canonical body (for the Idempotency-Key fingerprint) and what it asks to buy.

    ``{"token", "product"}`` (the original's request) buys the product's digital download;
    ``{"token", "items", "shipping"}`` buys a cart.
    """
    product, items = validated.get("product"), validated.get("items")
    if (product is None) == (items is None):
        raise InvalidInput("send either product or items", field="items")
    if items is None:
        assert product is not None
        body = {"product": product, "token": validated["token"]}
        return body, Purchase((CartLine(product),))
    shipping = validated.get("shipping")
    body = {"items": items, "shipping": shipping, "token": validated["token"]}
    lines = tuple(CartLine(i["product"], i["format"], i["quantity"]) for i in items)
    address = ShippingAddress.new(**shipping) if shipping is not None else None
    return body, Purchase(lines, address)


def _answer(placement: Placement) -> Answer:
    status, payload = placement_response(placement)
    return Answer(status, json.dumps(payload))


def refuse_card_testing(request: Request, user_id: int) -> None:
    """429 before the gateway while the shopper or the address has too many declines."""
    request.shop.payment_failures.refuse_if_exceeded(user_id, client_address(request))


def counted(request: Request, placement: Placement) -> Placement:
    """The placement, its order counted against the shopper and address if it failed."""
    request.shop.payment_failures.count(placement.order, client_address(request))
    return placement


def placement_response(placement: Placement) -> tuple[int, dict[str, Any]]:
    """The status code and body API.md gives for how an order's payment went."""
    order_body = order_json(placement.order)
    status = placement.order.status
    if status in CHARGED_STATUSES:
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


@order.get(permission=SHOPPER)
@responses({200: OrderJson, 404: ErrorsJson, 503: ErrorsJson})
def show_order(request: Request) -> dict[str, Any]:
    """One of the caller's orders; another shopper's or an unknown id is 404."""
    user = authenticated_user(request)
    return order_json(request.shop.orders.get_order(user.id, _order_id(request)))


@confirm.post(permission=SHOPPER)
@responses(
    {
        200: OrderPlacedJson,
        202: OrderPendingJson,
        402: (PaymentFailedJson, AuthenticationRequiredJson),
        404: ErrorsJson,
        429: ErrorsJson,
        503: (PaymentFailedJson, ErrorsJson),
    },
)
def confirm_order(request: Request) -> dict[str, Any]:
    """After 3-D Secure: 200 with the settled order, 402 if still or again not paid."""
    user_id = _caller_id(request)
    order_id = _order_id(request)
    refuse_card_testing(request, user_id)
    placement = counted(request, request.shop.orders.confirm(user_id, order_id))
    status, payload = placement_response(placement)
    return _json(request, 200 if status == 201 else status, payload)


def _validate_refund(request: Request, **kwargs: Any) -> None:
    # No body means "all that is left", so a body-less POST has no content type to check.
    if not request.body:
        request.validated = {"amount": None}
        return
    if request.content_type != "application/json":
        raise HTTPUnsupportedMediaType("a refund's body is JSON")
    colander_body_validator(request, **kwargs)


@refund.post(schema=RefundSchema(), validators=(_validate_refund,), permission=ADMIN)
@responses(
    {
        200: OrderPlacedJson,
        404: ErrorsJson,
        409: ErrorsJson,
        415: ErrorsJson,
        503: ErrorsJson,
    }
)
def refund_order(request: Request) -> dict[str, Any]:
    """Refund ``amount`` (all that is left when absent) of a paid order through the gateway.

    More than is left is 409; a repeated full refund refunds nothing more.
    """
    order_id = _order_id(request)
    raw = request.validated.get("amount")
    amount = None if raw in (None, colander.null) else Money.from_major(raw)
    refunded = request.shop.orders.refund(order_id, amount)
    return {"success": True, "order": order_json(refunded)}
