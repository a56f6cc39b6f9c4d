"""POST /api/webhooks/stripe/: payment events from Stripe, verified and applied once."""

from __future__ import annotations

from typing import Any

from cornice import Service
from pyramid.request import Request

stripe_webhook = Service(
    name="stripe_webhook",
    path="/api/webhooks/stripe/",
    description="Stripe's payment_intent.* and charge.refunded events.",
)


@stripe_webhook.post()
def receive_stripe_event(request: Request) -> dict[str, Any]:
    """Verify ``Stripe-Signature`` on the raw body (400 if bad), apply the event, answer 200."""
    event = request.services.events.parse(
        request.body, request.headers.get("Stripe-Signature", "")
    )
    applied = request.services.orders.apply_payment_event(event)
    return {"received": True, "applied": applied}
