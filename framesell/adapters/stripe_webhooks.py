"""Stripe webhook events: ``Stripe-Signature`` verified, the body read as a PaymentEvent."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import stripe

from framesell.application.ports import Clock
from framesell.domain.errors import InvalidPaymentEvent
from framesell.domain.records import PaymentEvent

TOLERANCE_SECONDS = 300  # Stripe's default: older signatures are replays


def event_from_json(payload: bytes) -> PaymentEvent:
    """Read a Stripe event body; the payment is the PaymentIntent, the order its metadata."""
    try:
        data = json.loads(payload.decode("utf-8"))
        event_id, event_type = str(data["id"]), str(data["type"])
        obj: dict[str, Any] = data["data"]["object"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise InvalidPaymentEvent("unreadable event body") from None
    if not isinstance(obj, dict):
        raise InvalidPaymentEvent("unreadable event body")
    if obj.get("object") == "payment_intent":
        payment_id = obj.get("id")
    else:  # a charge (charge.refunded) or a dispute names its PaymentIntent
        payment_id = obj.get("payment_intent")
        if isinstance(payment_id, dict):  # expanded
            payment_id = payment_id.get("id")
    metadata = obj.get("metadata") or {}
    order_id = None
    if obj.get("object") != "dispute":  # a dispute's metadata is the dispute's own
        raw_order = metadata.get("order_id") if isinstance(metadata, dict) else None
        if isinstance(raw_order, str) and raw_order.isdigit() and len(raw_order) <= 18:
            order_id = int(raw_order)
    livemode = data.get("livemode")
    dispute_status = obj.get("status") if obj.get("object") == "dispute" else None
    return PaymentEvent(
        id=event_id,
        type=event_type,
        payment_id=str(payment_id) if isinstance(payment_id, str) else None,
        order_id=order_id,
        livemode=livemode if isinstance(livemode, bool) else None,
        dispute_status=dispute_status if isinstance(dispute_status, str) else None,
    )


class StripeEventParser:
    """Verifies ``Stripe-Signature`` with the Stripe SDK (HMAC-SHA256, 300 s tolerance)."""

    def __init__(self, secret: str, tolerance_seconds: int = TOLERANCE_SECONDS) -> None:
        self._secret = secret
        self._tolerance = tolerance_seconds

    def parse(self, payload: bytes, signature: str) -> PaymentEvent:
        """Return the event of a correctly signed, recent body; InvalidPaymentEvent otherwise."""
        if not self._secret:
            raise InvalidPaymentEvent("webhooks are not configured")
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature, self._secret, self._tolerance
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError):
            raise InvalidPaymentEvent("invalid or expired Stripe-Signature") from None
        return event_from_json(payload)


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """A ``Stripe-Signature`` header value for a body, as Stripe computes it."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class SignedEventParser:
    """Stripe's signature scheme without the SDK, on our Clock: the fake gateway's webhooks."""

    def __init__(
        self, secret: str, clock: Clock, tolerance_seconds: int = TOLERANCE_SECONDS
    ) -> None:
        self._secret = secret
        self._clock = clock
        self._tolerance = tolerance_seconds

    def parse(self, payload: bytes, signature: str) -> PaymentEvent:
        """Return the event of a correctly signed, recent body; InvalidPaymentEvent otherwise."""
        if not self._secret:
            raise InvalidPaymentEvent("webhooks are not configured")
        try:
            fields = [item.split("=", 1) for item in signature.split(",")]
            timestamp = int(next(value for name, value in fields if name == "t"))
            signatures = [value for name, value in fields if name == "v1"]
        except (ValueError, StopIteration):
            raise InvalidPaymentEvent("invalid or expired Stripe-Signature") from None
        expected = sign(payload, self._secret, timestamp).split("v1=", 1)[1]
        if not any(hmac.compare_digest(expected, given) for given in signatures):
            raise InvalidPaymentEvent("invalid or expired Stripe-Signature")
        if timestamp < self._clock.now().timestamp() - self._tolerance:
            raise InvalidPaymentEvent("invalid or expired Stripe-Signature")
        return event_from_json(payload)
