"""POST /api/webhooks/stripe/: payment events from Stripe, verified and applied once."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from framesell.entrypoints.http.errors import Endpoint
from framesell.entrypoints.http.openapi import responses
from framesell.entrypoints.http.response_schemas import ErrorsJson, EventReceivedJson
from framesell.entrypoints.http.schemas import STRIPE_SIGNATURE
from framesell.entrypoints.http.security import PUBLIC

stripe_webhook = Endpoint(
    name="stripe_webhook",
    path="/api/webhooks/stripe/",
    description="Stripe's payment_intent.* and charge.refunded events.",
)


@stripe_webhook.post(permission=PUBLIC)
@responses({200: EventReceivedJson, 400: ErrorsJson, 503: ErrorsJson}, headers=[STRIPE_SIGNATURE])
def receive_stripe_event(request: Request) -> dict[str, Any]:
    """Verify ``Stripe-Signature`` on the raw body (400 if bad), apply the event, answer 200."""
    event = request.shop.events.parse(
        request.body, request.headers.get("Stripe-Signature", "")
    )
    applied = request.shop.orders.apply_payment_event(event)
    return {"received": True, "applied": applied}
