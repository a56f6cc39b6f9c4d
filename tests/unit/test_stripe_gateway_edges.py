"""StripeGateway at its edges: its log lines, messages, SDK settings and Stripe's odd answers.

Canned Stripe answers as in test_stripe_gateway.py (no network); what is checked here is
what an operator reads (log lines and their fields, error messages) and the corners of
Stripe's answers (missing fields, boundaries of a refund, a 3-D Secure confirmation).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

from framesell.adapters.stripe import StripeGateway
from framesell.domain.errors import (
    InvalidInput,
    PaymentDeclined,
    PaymentError,
    PaymentMisconfigured,
    PaymentUnavailable,
)
from framesell.domain.money import Money
from framesell.domain.payments import PaymentState
from tests.unit.test_stripe_gateway import SECRET, an_intent

LOGGER = "framesell.adapters.stripe"


class StripeAnswering(stripe.HTTPClient):
    """An SDK HTTP client that records requests and answers from a list, with request ids."""

    name = "canned-edges"

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[int, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str], dict[str, list[str]]]] = []

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        """Record the request; answer the next canned body with ``req_<n>`` as request id."""
        form = parse_qs(post_data.decode() if isinstance(post_data, bytes) else post_data or "")
        self.requests.append((method, url, dict(headers), form))
        status, body = self.answers.pop(0)
        return json.dumps(body).encode(), status, {"request-id": f"req_{len(self.requests)}"}


@pytest.fixture
def stripe_answers(monkeypatch: pytest.MonkeyPatch) -> StripeAnswering:
    """The HTTP client of the next StripeGateway; the test fills in the answers."""
    client = StripeAnswering()
    monkeypatch.setattr(stripe, "RequestsClient", lambda **kwargs: client)
    return client


def a_gateway() -> StripeGateway:
    return StripeGateway(SECRET, api_base="http://stripe.invalid", max_retries=0)


def stripe_error(status: int, **error: Any) -> tuple[int, dict[str, Any]]:
    return status, {"error": error}


def charge(gateway: StripeGateway | None = None) -> Any:
    return (gateway or a_gateway()).charge(Money(5999), "pm_card_visa", order_id=42,
                                           idempotency_key="order-42-1")


def adapter_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER]


# --- the SDK client each gateway builds ---------------------------------------------------


@pytest.fixture
def sdk_settings(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the next StripeGateway passes to the SDK's client and HTTP client."""
    settings: dict[str, Any] = {}
    real_client = stripe.StripeClient

    def http_client(**kwargs: Any) -> StripeAnswering:
        settings["http"] = kwargs
        return StripeAnswering()

    def client(*args: Any, **kwargs: Any) -> stripe.StripeClient:
        settings["client"] = kwargs
        return real_client(*args, **kwargs)

    monkeypatch.setattr(stripe, "RequestsClient", http_client)
    monkeypatch.setattr(stripe, "StripeClient", client)
    return settings


def test_by_default_a_request_waits_ten_seconds_and_is_retried_twice(sdk_settings):
    StripeGateway(SECRET)

    assert sdk_settings["http"] == {"timeout": 10.0}
    assert sdk_settings["client"]["max_network_retries"] == 2


def test_the_timeout_and_the_retries_given_reach_the_sdk(sdk_settings):
    StripeGateway(SECRET, timeout_seconds=2.5, max_retries=0)

    assert sdk_settings["http"] == {"timeout": 2.5}
    assert sdk_settings["client"]["max_network_retries"] == 0


def test_without_an_api_base_requests_go_to_stripe_itself(stripe_answers):
    stripe_answers.answers.append((200, an_intent()))

    StripeGateway(SECRET, max_retries=0).retrieve("pi_1")

    assert stripe_answers.requests[0][1].startswith("https://api.stripe.com/v1/payment_intents/")


def test_a_missing_secret_key_says_so():
    with pytest.raises(PaymentMisconfigured) as misconfigured:
        StripeGateway("")

    assert misconfigured.value.message == "the Stripe secret key is missing"


# --- log lines ------------------------------------------------------------------------------


def test_every_answer_is_logged_with_what_came_back_its_status_and_request_id(
    stripe_answers, caplog
):
    stripe_answers.answers.append((200, an_intent()))

    with caplog.at_level(logging.INFO, logger=LOGGER):
        charge()

    [record] = adapter_records(caplog)
    assert record.levelno == logging.INFO
    assert record.getMessage() == "Stripe answered payment_intent (HTTP 200, request req_1)"
    assert (record.stripe_request_id, record.stripe_http_status) == ("req_1", 200)  # type: ignore[attr-defined]


def test_an_error_answer_is_logged_with_the_errors_type_and_status(stripe_answers, caplog):
    stripe_answers.answers.append(stripe_error(402, type="card_error", code="card_declined",
                                               message="Your card was declined."))

    with caplog.at_level(logging.INFO, logger=LOGGER), pytest.raises(PaymentDeclined):
        charge()

    [record] = adapter_records(caplog)
    assert record.getMessage() == "Stripe answered CardError (HTTP 402, request req_1)"
    assert (record.stripe_request_id, record.stripe_http_status) == ("req_1", 402)  # type: ignore[attr-defined]


def test_an_answer_without_a_stripe_object_is_logged_by_its_python_type(stripe_answers, caplog):
    stripe_answers.answers += [
        (200, {"object": "list", "url": "/v1/payment_intents", "has_more": False,
               "data": []}),
    ]

    with caplog.at_level(logging.INFO, logger=LOGGER):
        a_gateway().find_for_order(42, created_from=datetime(2030, 1, 1, tzinfo=UTC),
                                   created_until=datetime(2030, 1, 2, tzinfo=UTC))

    assert [record.getMessage() for record in adapter_records(caplog)] == [
        "Stripe answered list (HTTP 200, request req_1)",
        # The pages read through, a plain list: no answer of its own.
        "Stripe answered list (HTTP None, request None)",
    ]


@pytest.mark.parametrize(("status", "error_type"), [(429, "RateLimitError"),
                                                    (503, "APIError")])
def test_an_unavailable_stripe_is_a_warning_naming_the_error_and_status(
    stripe_answers, caplog, status, error_type
):
    stripe_answers.answers.append(stripe_error(status, type="api_error", message="boom"))

    with caplog.at_level(logging.INFO, logger=LOGGER), pytest.raises(PaymentUnavailable):
        charge()

    warnings = [r for r in adapter_records(caplog) if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"Stripe unavailable: {error_type} (HTTP {status})"
    ]


# --- messages for the operator --------------------------------------------------------------


def test_a_request_stripe_rejects_names_the_error_type_status_and_code(stripe_answers):
    stripe_answers.answers.append(stripe_error(400, type="invalid_request_error",
                                               code="parameter_unknown", param="foo",
                                               message="Received unknown parameter: foo"))

    with pytest.raises(PaymentMisconfigured) as misconfigured:
        charge()

    assert misconfigured.value.message == (
        "Stripe rejected our request (InvalidRequestError, HTTP 400 [parameter_unknown]): "
        "Received unknown parameter: foo"
    )


def test_a_rejected_request_without_a_code_has_no_brackets_and_no_key(stripe_answers):
    stripe_answers.answers.append(stripe_error(
        400, type="idempotency_error", message=f"Keys for {SECRET} cannot be reused."
    ))

    with pytest.raises(PaymentMisconfigured) as misconfigured:
        charge()

    assert misconfigured.value.message == (
        "Stripe rejected our request (IdempotencyError, HTTP 400): "
        "Keys for sk_…(redacted) cannot be reused."
    )


def test_refused_credentials_name_the_status_only(stripe_answers):
    stripe_answers.answers.append(stripe_error(401, type="invalid_request_error",
                                               message=f"Invalid API Key provided: {SECRET}"))

    with pytest.raises(PaymentMisconfigured) as misconfigured:
        charge()

    assert misconfigured.value.message == "Stripe refused our credentials (HTTP 401)"


# --- charges --------------------------------------------------------------------------------


def test_a_charge_stripe_answers_as_failed_is_declined_with_its_message_and_id(stripe_answers):
    stripe_answers.answers.append((200, an_intent(
        id="pi_failed", status="requires_payment_method",
        last_payment_error={"message": "Your card does not support this type of purchase."},
    )))

    with pytest.raises(PaymentDeclined) as declined:
        charge()

    assert (declined.value.message, declined.value.payment_id) == (
        "Your card does not support this type of purchase.", "pi_failed"
    )


def test_a_shoppers_mistake_carries_the_payment_intent_stripe_names(stripe_answers):
    stripe_answers.answers.append(stripe_error(
        400, type="invalid_request_error", code="payment_intent_authentication_failure",
        message="We are unable to authenticate your payment method.",
        payment_intent=an_intent(id="pi_3ds", status="requires_payment_method"),
    ))

    with pytest.raises(PaymentDeclined) as declined:
        charge()

    assert (declined.value.message, declined.value.payment_id) == (
        "We are unable to authenticate your payment method.", "pi_3ds"
    )


@pytest.mark.parametrize("payment_intent", [None, 12345, ["pi_1"], {"object": "payment_intent"}])
def test_a_decline_without_a_readable_payment_intent_has_no_payment_id(stripe_answers,
                                                                       payment_intent):
    stripe_answers.answers.append(stripe_error(
        402, type="card_error", code="card_declined", message="Your card was declined.",
        payment_intent=payment_intent,
    ))

    with pytest.raises(PaymentDeclined) as declined:
        charge()

    assert declined.value.payment_id is None


@pytest.mark.parametrize(("error", "declined"), [
    # A token that does not exist, however Stripe codes it, is the shopper's.
    ({"message": "No such token: 'tok_gone'"}, True),
    ({"code": "resource_missing", "param": "card", "message": "No such card: 'card_gone'"},
     True),
    ({"code": "resource_missing", "param": "confirmation_token"}, True),
    # Something else missing, or the payment method wrong in another way, is ours.
    ({"code": "resource_missing", "param": "customer", "message": "No such customer: 'cus_x'"},
     False),
    ({"code": "parameter_missing", "param": "payment_method",
      "message": "Missing required param: payment_method."}, False),
    ({"message": "Something unexpected."}, False),
    ({}, False),
])
def test_which_400s_are_the_shoppers_mistake(stripe_answers, error, declined):
    stripe_answers.answers.append(stripe_error(400, type="invalid_request_error", **error))

    expected = PaymentDeclined if declined else PaymentMisconfigured
    with pytest.raises(PaymentError) as raised:
        charge()

    assert type(raised.value) is expected


@pytest.mark.parametrize(("code", "message"), [
    ("amount_too_large", "This amount cannot be paid by card; please contact the shop."),
    ("invalid_cvc", "Your payment details cannot be used; please try another card."),
])
def test_a_shoppers_mistake_without_stripes_message_gets_ours(stripe_answers, code, message):
    stripe_answers.answers.append(stripe_error(400, type="invalid_request_error", code=code))

    with pytest.raises(PaymentDeclined) as declined:
        charge()

    assert declined.value.message == message


def test_outside_a_charge_a_shoppers_error_code_is_our_misconfiguration(stripe_answers):
    stripe_answers.answers.append(stripe_error(
        400, type="invalid_request_error", code="amount_too_large", param="amount",
        message="Refund amount ($100.00) is greater than charge amount ($59.99)",
    ))

    with pytest.raises(PaymentMisconfigured):
        a_gateway().refund("pi_1", amount=Money(10000), idempotency_key="r-1")


# --- other requests -------------------------------------------------------------------------


def test_finding_an_orders_payments_lists_a_window_one_second_past_its_end(stripe_answers):
    created_from = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    created_until = datetime(2030, 1, 1, 12, 30, 0, 900000, tzinfo=UTC)
    stripe_answers.answers.append(
        (200, {"object": "list", "url": "/v1/payment_intents", "has_more": False, "data": []})
    )

    assert a_gateway().find_for_order(42, created_from=created_from,
                                      created_until=created_until) == []

    method, url, _, _ = stripe_answers.requests[0]
    query = parse_qs(urlsplit(url).query)
    assert (method, urlsplit(url).path) == ("get", "/v1/payment_intents")
    assert query == {"created[gte]": [str(int(created_from.timestamp()))],
                     "created[lte]": [str(int(created_until.timestamp()) + 1)],
                     "limit": ["100"]}


def test_a_cancel_carries_its_idempotency_key(stripe_answers):
    stripe_answers.answers += [(200, an_intent(status="canceled")),
                               (200, an_intent(status="canceled"))]

    a_gateway().cancel("pi_1", idempotency_key="cancel-42")

    method, url, headers, _ = stripe_answers.requests[0]
    assert (method, url) == ("post", "http://stripe.invalid/v1/payment_intents/pi_1/cancel")
    assert headers["Idempotency-Key"] == "cancel-42"


def test_a_payment_stripe_refuses_to_cancel_while_it_is_underway_names_it(stripe_answers):
    stripe_answers.answers += [
        stripe_error(400, type="invalid_request_error", code="payment_intent_unexpected_state",
                     message="You cannot cancel this PaymentIntent because it is processing."),
        (200, an_intent(status="processing")),
    ]

    with pytest.raises(PaymentMisconfigured) as misconfigured:
        a_gateway().cancel("pi_busy", idempotency_key="cancel-42")

    assert misconfigured.value.message == "Stripe refused to cancel pi_busy"


def test_a_payment_that_succeeded_before_its_cancel_comes_back_succeeded(stripe_answers):
    stripe_answers.answers += [
        stripe_error(400, type="invalid_request_error", code="payment_intent_unexpected_state",
                     message="You cannot cancel this PaymentIntent because it has a status of "
                             "succeeded."),
        (200, an_intent(status="succeeded")),
    ]

    payment = a_gateway().cancel("pi_1", idempotency_key="cancel-42")

    assert payment.state is PaymentState.SUCCEEDED


def test_a_refund_stripe_refuses_for_the_payments_state_is_our_misconfiguration(
    stripe_answers,
):
    stripe_answers.answers.append(stripe_error(
        400, type="invalid_request_error", code="payment_intent_unexpected_state",
        message="This PaymentIntent does not have a successful charge to refund.",
    ))

    # A domain error the payment service turns into an outcome, never an exception of the
    # adapter's own that would reach the shopper as a 500.
    with pytest.raises(PaymentMisconfigured) as misconfigured:
        a_gateway().refund("pi_1", idempotency_key="r-1")

    assert misconfigured.value.message == (
        "Stripe rejected our request (InvalidRequestError, HTTP 400 "
        "[payment_intent_unexpected_state]): "
        "This PaymentIntent does not have a successful charge to refund."
    )


# --- reading a PaymentIntent ----------------------------------------------------------------


def retrieved(stripe_answers: StripeAnswering, **fields: Any) -> Any:
    stripe_answers.answers.append((200, an_intent(**fields)))
    return a_gateway().retrieve("pi_1")


def test_a_payment_reads_its_currency_in_lower_case_and_its_order_reference(stripe_answers):
    payment = retrieved(stripe_answers, currency="USD",
                        metadata={"order_id": "42", "order_reference": "ref-42"})

    assert (payment.amount, payment.order_id, payment.order_reference) == (
        Money(5999, "usd"), 42, "ref-42"
    )


def test_a_payment_in_a_currency_the_shop_does_not_take_is_never_read_as_dollars(
    stripe_answers,
):
    with pytest.raises(InvalidInput, match="unsupported currency 'eur'"):
        retrieved(stripe_answers, currency="eur")


@pytest.mark.parametrize("metadata", [{}, {"order_id": ""}, {"order_id": "42a"}, None])
def test_a_payment_without_a_numeric_order_id_belongs_to_no_order(stripe_answers, metadata):
    payment = retrieved(stripe_answers, metadata=metadata)

    assert (payment.order_id, payment.order_reference) == (None, None)


def test_a_succeeded_payment_without_its_charge_has_nothing_refunded(stripe_answers):
    payment = retrieved(stripe_answers)

    assert (payment.state, payment.refunded_cents) == (PaymentState.SUCCEEDED, 0)


def test_money_counts_as_refunded_only_once_the_payment_succeeded(stripe_answers):
    payment = retrieved(stripe_answers, status="processing",
                        latest_charge={"id": "ch_1", "refunded": False, "amount_refunded": 500})

    assert (payment.state, payment.refunded_cents) == (PaymentState.PROCESSING, 0)


@pytest.mark.parametrize(("amount", "amount_refunded", "state"), [
    (5999, 5999, PaymentState.REFUNDED),  # all of it, even with the refunded flag unset
    (5999, 5998, PaymentState.SUCCEEDED),
    (1, 0, PaymentState.SUCCEEDED),  # nothing refunded, however small the payment
    (1, None, PaymentState.SUCCEEDED),
])
def test_a_payment_is_refunded_once_the_refunds_reach_its_amount(stripe_answers, amount,
                                                                amount_refunded, state):
    payment = retrieved(stripe_answers, amount=amount, latest_charge={
        "id": "ch_1", "refunded": False, "amount_refunded": amount_refunded,
    })

    assert (payment.state, payment.refunded_cents) == (state, amount_refunded or 0)


@pytest.mark.parametrize(("status", "next_action", "state"), [
    ("requires_confirmation", {"type": "use_stripe_sdk"}, PaymentState.REQUIRES_ACTION),
    ("requires_confirmation", None, PaymentState.PROCESSING),
    ("processing", {"type": "use_stripe_sdk"}, PaymentState.PROCESSING),
    ("requires_payment_method", {"type": "use_stripe_sdk"}, PaymentState.FAILED),
])
def test_only_a_payment_waiting_for_the_shopper_requires_action(stripe_answers, status,
                                                               next_action, state):
    payment = retrieved(stripe_answers, status=status, next_action=next_action)

    assert payment.state is state


def test_a_failed_payment_without_stripes_message_is_a_plain_decline(stripe_answers):
    payment = retrieved(stripe_answers, status="requires_payment_method",
                        last_payment_error={"code": "card_declined"})

    assert (payment.state, payment.failure_message) == (PaymentState.FAILED,
                                                        PaymentDeclined.message)

