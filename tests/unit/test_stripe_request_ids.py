"""StripeGateway logs Stripe's request id of every answer, success or error (no network)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import stripe

from framesell.adapters.stripe import StripeGateway
from framesell.domain.errors import PaymentDeclined
from framesell.domain.money import Money


class StripeWithRequestIds(stripe.HTTPClient):
    """An SDK HTTP client answering from a list, with the request id header Stripe sends."""

    name = "canned-with-request-ids"

    def __init__(self, *answers: tuple[int, dict[str, Any], str]) -> None:
        super().__init__()
        self.answers = list(answers)

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        """Return the next canned answer with its request id header."""
        status, body, request_id = self.answers.pop(0)
        # requests gives the SDK a case-insensitive mapping; a plain dict needs the lower case.
        return json.dumps(body).encode(), status, {"request-id": request_id}


def a_gateway(monkeypatch: pytest.MonkeyPatch, *answers: tuple[int, dict[str, Any], str]) -> Any:
    client = StripeWithRequestIds(*answers)
    monkeypatch.setattr(stripe, "RequestsClient", lambda **kwargs: client)
    return StripeGateway("sk_test_request_ids", api_base="http://stripe.invalid", max_retries=0)


def stripe_request_ids(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.stripe_request_id
        for record in caplog.records
        if record.name == "framesell.adapters.stripe" and hasattr(record, "stripe_request_id")
    ]


def test_a_successful_charge_logs_stripes_request_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    intent = {"id": "pi_1", "object": "payment_intent", "amount": 5999, "currency": "usd",
              "status": "succeeded", "metadata": {"order_id": "42"}}
    gateway = a_gateway(monkeypatch, (200, intent, "req_success123"))
    with caplog.at_level(logging.INFO, logger="framesell.adapters.stripe"):
        gateway.charge(Money(5999), "pm_card_visa", order_id=42, idempotency_key="order-42-1")
    assert stripe_request_ids(caplog) == ["req_success123"]


def test_a_declined_charge_logs_stripes_request_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    declined = {"error": {"type": "card_error", "code": "card_declined",
                          "message": "Your card was declined."}}
    gateway = a_gateway(monkeypatch, (402, declined, "req_declined456"))
    with caplog.at_level(logging.INFO, logger="framesell.adapters.stripe"), pytest.raises(
        PaymentDeclined
    ):
        gateway.charge(Money(5999), "pm_card_visa", order_id=42, idempotency_key="order-42-1")
    assert stripe_request_ids(caplog) == ["req_declined456"]


class RecordingStripe(StripeWithRequestIds):
    """Also keeps the headers of every request."""

    name = "recording"

    def __init__(self, *answers: tuple[int, dict[str, Any], str]) -> None:
        super().__init__(*answers)
        self.headers: list[dict[str, str]] = []

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        """Note the headers, then answer from the list."""
        self.headers.append(dict(headers))
        return super().request(method, url, headers, post_data)


def test_every_request_names_the_pinned_stripe_api_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import framesell.adapters.stripe as adapter

    assert adapter.STRIPE_API_VERSION == "2026-10-28.endive"  # what this code was written for
    # Another value proves the adapter sends its own pin, not the SDK's default.
    monkeypatch.setattr(adapter, "STRIPE_API_VERSION", "2099-01-01.pinned")
    intent = {"id": "pi_1", "object": "payment_intent", "amount": 5999, "currency": "usd",
              "status": "succeeded", "metadata": {"order_id": "42"}}
    client = RecordingStripe((200, intent, "req_1"), (200, intent, "req_2"))
    monkeypatch.setattr(stripe, "RequestsClient", lambda **kwargs: client)
    gateway = StripeGateway("sk_test_versions", api_base="http://stripe.invalid", max_retries=0)

    gateway.charge(Money(5999), "pm_card_visa", order_id=42, idempotency_key="order-42-1")
    gateway.retrieve("pi_1")

    assert [h["Stripe-Version"] for h in client.headers] == ["2099-01-01.pinned"] * 2
