"""StripeGateway's requests and error mapping, against canned Stripe answers (no network)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest
import stripe

from framesell.adapters.stripe import StripeGateway
from framesell.domain.errors import PaymentDeclined, PaymentMisconfigured, PaymentUnavailable
from framesell.domain.money import Money
from framesell.domain.payments import PaymentState

SECRET = "sk_test_secret_that_must_not_leak"


def an_intent(**fields: Any) -> dict[str, Any]:
    """A PaymentIntent as Stripe's API returns it."""
    return {"id": "pi_1", "object": "payment_intent", "amount": 5999, "currency": "usd",
            "status": "succeeded", "metadata": {"order_id": "42"},
            "client_secret": "pi_1_secret_x", "last_payment_error": None, **fields}


class CannedStripe(stripe.HTTPClient):
    """An SDK HTTP client that records requests and answers from a list."""

    name = "canned"

    def __init__(self, *answers: tuple[int, dict[str, Any]]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.requests: list[tuple[str, str, dict[str, str], dict[str, list[str]]]] = []

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        """Record the request and return the next canned answer."""
        form = parse_qs(post_data.decode() if isinstance(post_data, bytes) else post_data or "")
        self.requests.append((method, url, dict(headers), form))
        status, body = self.answers.pop(0)
        return json.dumps(body).encode(), status, {}


@pytest.fixture
def canned(monkeypatch):
    """Make the next StripeGateway talk to a CannedStripe; the test fills in the answers."""
    client = CannedStripe()
    monkeypatch.setattr(stripe, "RequestsClient", lambda **kwargs: client)
    return client


def a_gateway() -> StripeGateway:
    return StripeGateway(SECRET, api_base="http://stripe.invalid", max_retries=0)


def test_a_charge_sends_integer_cents_metadata_and_the_idempotency_key(canned):
    canned.answers.append((200, an_intent()))

    payment = a_gateway().charge(Money(5999), "pm_card_visa", order_id=42,
                                 idempotency_key="order-42-1")

    method, url, headers, form = canned.requests[0]
    assert (method, url) == ("post", "http://stripe.invalid/v1/payment_intents")
    assert headers["Idempotency-Key"] == "order-42-1"
    assert form == {"amount": ["5999"], "currency": ["usd"], "metadata[order_id]": ["42"],
                    "confirm": ["true"], "payment_method": ["pm_card_visa"],
                    "payment_method_types[0]": ["card"]}
    assert (payment.id, payment.state, payment.amount, payment.order_id) == (
        "pi_1", PaymentState.SUCCEEDED, Money(5999), 42
    )
    assert payment.client_secret is None


def test_a_card_token_first_becomes_a_payment_method_under_a_derived_key(canned):
    canned.answers += [(200, {"id": "pm_9", "object": "payment_method"}), (200, an_intent())]

    a_gateway().charge(Money(5999), "tok_abc", order_id=42, idempotency_key="order-42-1")

    (_, pm_url, pm_headers, pm_form), (_, _, _, pi_form) = canned.requests
    assert pm_url.endswith("/v1/payment_methods")
    assert pm_headers["Idempotency-Key"] == "order-42-1:pm"
    assert pm_form == {"type": ["card"], "card[token]": ["tok_abc"]}
    assert pi_form["payment_method"] == ["pm_9"]


def test_a_confirmation_token_is_passed_as_such(canned):
    canned.answers.append((200, an_intent()))

    a_gateway().charge(Money(5999), "ctoken_abc", order_id=42, idempotency_key="k")

    form = canned.requests[0][3]
    assert form["confirmation_token"] == ["ctoken_abc"]
    assert "payment_method" not in form


def test_3d_secure_returns_the_client_secret(canned):
    canned.answers.append((200, an_intent(status="requires_action",
                                          next_action={"type": "use_stripe_sdk"})))

    payment = a_gateway().charge(Money(5999), "pm_x", order_id=42, idempotency_key="k")

    assert (payment.state, payment.client_secret) == (PaymentState.REQUIRES_ACTION,
                                                      "pi_1_secret_x")


def test_a_card_error_is_a_decline_with_stripes_message_and_the_payment_id(canned):
    canned.answers.append((402, {"error": {
        "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
        "payment_intent": an_intent(status="requires_payment_method", id="pi_7"),
    }}))

    with pytest.raises(PaymentDeclined) as declined:
        a_gateway().charge(Money(5999), "pm_x", order_id=42, idempotency_key="k")

    assert (declined.value.message, declined.value.payment_id) == (
        "Your card has insufficient funds.", "pi_7"
    )


def test_a_missing_payment_method_is_the_shoppers_problem(canned):
    canned.answers.append((400, {"error": {
        "type": "invalid_request_error", "code": "resource_missing", "param": "payment_method",
        "message": "No such PaymentMethod: 'pm_gone'",
    }}))

    with pytest.raises(PaymentDeclined, match="No such PaymentMethod"):
        a_gateway().charge(Money(5999), "pm_gone", order_id=42, idempotency_key="k")


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_rate_limits_and_server_errors_are_unavailable(canned, status):
    canned.answers.append((status, {"error": {"type": "api_error", "message": "boom"}}))

    with pytest.raises(PaymentUnavailable):
        a_gateway().charge(Money(5999), "pm_x", order_id=42, idempotency_key="k")


@pytest.mark.parametrize(("status", "error"), [
    (401, {"type": "invalid_request_error", "message": f"Invalid API Key provided: {SECRET}"}),
    (403, {"type": "invalid_request_error", "message": "The provided key does not have access"}),
    (400, {"type": "idempotency_error", "message": "Keys for idempotent requests ..."}),
    (400, {"type": "invalid_request_error", "param": "amount", "message": "Invalid integer"}),
    (400, {"type": "invalid_request_error", "message": f"Key {SECRET} is not for this account"}),
])
def test_our_own_mistakes_are_misconfiguration_without_the_key(canned, status, error):
    canned.answers.append((status, {"error": error}))

    with pytest.raises(PaymentMisconfigured) as misconfigured:
        a_gateway().charge(Money(5999), "pm_x", order_id=42, idempotency_key="k")

    assert SECRET not in str(misconfigured.value)
    assert not isinstance(misconfigured.value.__cause__, stripe.StripeError)


@pytest.mark.parametrize(("fields", "state", "message"), [
    ({"status": "processing"}, PaymentState.PROCESSING, None),
    ({"status": "requires_payment_method",
      "last_payment_error": {"message": "Your card was declined."}},
     PaymentState.FAILED, "Your card was declined."),
    ({"status": "canceled"}, PaymentState.FAILED, "the payment was canceled"),
    ({"latest_charge": {"id": "ch_1", "refunded": True}}, PaymentState.REFUNDED, None),
])
def test_retrieve_maps_stripes_statuses(canned, fields, state, message):
    canned.answers.append((200, an_intent(**fields)))

    payment = a_gateway().retrieve("pi_1")

    assert (payment.state, payment.failure_message) == (state, message)
    assert "expand[0]=latest_charge" in canned.requests[0][1]


def test_a_payment_already_refunded_under_another_key_counts_as_refunded(canned):
    canned.answers += [
        (400, {"error": {"type": "invalid_request_error", "code": "charge_already_refunded",
                         "message": "Charge ch_1 has already been refunded."}}),
        (200, an_intent(latest_charge={"id": "ch_1", "refunded": True})),
    ]

    assert a_gateway().refund("pi_1", idempotency_key="r").state is PaymentState.REFUNDED


def test_the_sdks_global_configuration_is_left_alone(canned):
    before = (stripe.api_key, stripe.api_base)

    a_gateway()

    assert (stripe.api_key, stripe.api_base) == before


@pytest.mark.parametrize(
    ("code", "param", "message"),
    [
        ("token_already_used", "card[token]",
         "These card details were already used; please enter your card again."),
        ("payment_method_unexpected_state", "payment_method",
         "The PaymentMethod cannot be used again."),
        ("amount_too_small", "amount",
         "This amount cannot be paid by card; please contact the shop."),
    ],
)
def test_stripes_400s_about_the_shoppers_payment_details_are_declines(canned, code, param,
                                                                      message):
    error = {"type": "invalid_request_error", "code": code, "param": param,
             "message": "The PaymentMethod cannot be used again."}
    canned.answers.append((400, {"error": error}))

    with pytest.raises(PaymentDeclined) as declined:
        a_gateway().charge(Money(5999), "pm_card_visa", order_id=42, idempotency_key="k")

    assert declined.value.message == message


def test_a_400_that_is_not_about_the_shoppers_details_stays_our_misconfiguration(canned):
    error = {"type": "invalid_request_error", "code": "parameter_unknown", "param": "foo",
             "message": "Received unknown parameter: foo"}
    canned.answers.append((400, {"error": error}))

    with pytest.raises(PaymentMisconfigured):
        a_gateway().charge(Money(5999), "pm_card_visa", order_id=42, idempotency_key="k")


def test_a_partial_refund_sends_its_amount_and_reads_the_refunded_total_back(canned):
    charge = {"id": "ch_1", "object": "charge", "amount": 5999, "amount_refunded": 1000,
              "refunded": False}
    canned.answers += [(200, {"id": "re_1", "object": "refund", "amount": 1000}),
                       (200, an_intent(latest_charge=charge))]

    payment = a_gateway().refund("pi_1", amount=Money(1000), idempotency_key="r-0")

    (_, url, headers, form), _ = canned.requests
    assert (url, headers["Idempotency-Key"]) == ("http://stripe.invalid/v1/refunds", "r-0")
    assert form == {"payment_intent": ["pi_1"], "amount": ["1000"]}
    assert (payment.state, payment.refunded_cents) == (PaymentState.SUCCEEDED, 1000)


def test_a_fully_refunded_payment_is_refunded(canned):
    charge = {"id": "ch_1", "object": "charge", "amount": 5999, "amount_refunded": 5999,
              "refunded": True}
    canned.answers.append((200, an_intent(latest_charge=charge)))

    payment = a_gateway().retrieve("pi_1")

    assert (payment.state, payment.refunded_cents) == (PaymentState.REFUNDED, 5999)
