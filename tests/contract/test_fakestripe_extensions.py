"""The fake Stripe behaves as Stripe's documentation says where plain localstripe does not.

Each test talks HTTP to a launched fake Stripe and would fail without one extension in
fakestripe/extensions.py; the last ones check that localstripe's own features survive.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
import requests

from tests.fixtures.stripe import SECRET_KEY

pytestmark = [pytest.mark.stripe, pytest.mark.slow]

AUTH = {"Authorization": f"Bearer {SECRET_KEY}"}


def post(url: str, path: str, data: dict[str, str], *, key: str | None = None,
         auth: dict[str, str] = AUTH) -> requests.Response:
    """POST a form to the fake Stripe, as the SDK does, with an optional Idempotency-Key."""
    headers = dict(auth)
    if key is not None:
        headers["Idempotency-Key"] = key
    return requests.post(url + path, data=data, headers=headers, timeout=10)


def card_form(number: str) -> dict[str, str]:
    """Raw card details in Stripe's form encoding."""
    return {"card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034",
            "card[cvc]": "123"}


def an_intent(**extra: str) -> dict[str, str]:
    """The form of a small PaymentIntent paid with Stripe's test Visa."""
    return {"amount": "1234", "currency": "usd", "payment_method": "pm_card_visa",
            "confirm": "true", "payment_method_types[0]": "card", **extra}


# a. Idempotent requests


def test_the_same_idempotency_key_replays_the_first_response(fake_stripe):
    key = str(uuid.uuid4())

    first = post(fake_stripe.url, "/v1/payment_intents", an_intent(), key=key)
    second = post(fake_stripe.url, "/v1/payment_intents", an_intent(), key=key)

    assert first.status_code == second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"


def test_the_same_idempotency_key_with_other_parameters_is_refused(fake_stripe):
    key = str(uuid.uuid4())
    post(fake_stripe.url, "/v1/payment_intents", an_intent(), key=key)

    other = post(fake_stripe.url, "/v1/payment_intents", an_intent(amount="999"), key=key)

    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"


def test_an_idempotency_key_belongs_to_one_api_key(fake_stripe):
    key = str(uuid.uuid4())

    mine = post(fake_stripe.url, "/v1/payment_intents", an_intent(), key=key)
    theirs = post(fake_stripe.url, "/v1/payment_intents", an_intent(), key=key,
                  auth={"Authorization": "Bearer sk_test_another_account"})

    assert theirs.json()["id"] != mine.json()["id"]


def test_an_error_is_replayed_too(fake_stripe):
    key = str(uuid.uuid4())
    declined = an_intent(payment_method="pm_card_chargeDeclined")

    first = post(fake_stripe.url, "/v1/payment_intents", declined, key=key)
    second = post(fake_stripe.url, "/v1/payment_intents", declined, key=key)

    assert first.status_code == second.status_code == 402
    assert second.json() == first.json()


# b. A PaymentMethod from a card token


def test_a_card_token_becomes_a_card_payment_method(fake_stripe):
    token = post(fake_stripe.url, "/v1/tokens", card_form("4242424242424242")).json()["id"]

    method = post(fake_stripe.url, "/v1/payment_methods",
                  {"type": "card", "card[token]": token})

    assert method.status_code == 200, method.text
    assert method.json()["id"].startswith("pm_")
    assert method.json()["card"]["last4"] == "4242"


def test_a_test_token_becomes_a_card_payment_method(fake_stripe):
    method = post(fake_stripe.url, "/v1/payment_methods",
                  {"type": "card", "card[token]": "tok_visa"})

    assert method.status_code == 200, method.text
    assert method.json()["card"]["last4"] == "4242"


def test_an_unknown_token_is_a_missing_resource(fake_stripe):
    method = post(fake_stripe.url, "/v1/payment_methods",
                  {"type": "card", "card[token]": "tok_unknown123"})

    assert method.status_code == 400
    assert method.json()["error"]["code"] == "resource_missing"
    assert method.json()["error"]["message"] == "No such token: 'tok_unknown123'"


# c. The decline test card is declined when charged


def test_the_decline_card_is_declined_when_a_payment_intent_is_confirmed(fake_stripe):
    method = post(fake_stripe.url, "/v1/payment_methods",
                  {"type": "card", **card_form("4000000000000002")}).json()["id"]

    answer = post(fake_stripe.url, "/v1/payment_intents", an_intent(payment_method=method))

    assert answer.status_code == 402
    error = answer.json()["error"]
    assert (error["type"], error["code"], error["decline_code"], error["message"]) == (
        "card_error", "card_declined", "generic_decline", "Your card was declined."
    )
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert error["payment_intent"]["last_payment_error"]["message"] == "Your card was declined."


def test_the_documented_decline_and_3d_secure_test_methods_exist(fake_stripe):
    declined = post(fake_stripe.url, "/v1/payment_intents",
                    an_intent(payment_method="pm_card_chargeDeclined"))
    challenged = post(fake_stripe.url, "/v1/payment_intents",
                      an_intent(payment_method="pm_card_authenticationRequired"))

    assert declined.status_code == 402
    assert challenged.json()["status"] == "requires_action"


# d. Every instance starts from scratch and keeps its state to itself


def test_two_instances_share_no_state_and_write_no_shared_file(fake_stripe):
    from fakestripe.launcher import start_fake_stripe

    shared_file = Path(tempfile.gettempdir()) / "localstripe.pickle"
    before = shared_file.stat().st_mtime_ns if shared_file.exists() else None
    with start_fake_stripe() as other:
        created = post(other.url, "/v1/payment_intents", an_intent()).json()["id"]

        elsewhere = requests.get(f"{fake_stripe.url}/v1/payment_intents/{created}",
                                 headers=AUTH, timeout=10)
        with start_fake_stripe() as newcomer:
            listed = requests.get(f"{newcomer.url}/v1/payment_intents", headers=AUTH,
                                  timeout=10).json()

    assert elsewhere.status_code == 404
    assert listed["data"] == []
    # localstripe pickles its store there on every write; another localstripe on this
    # machine writing at the same instant would make this line fail spuriously.
    assert (shared_file.stat().st_mtime_ns if shared_file.exists() else None) == before


# e. Unknown payment details are a missing resource, not a wrong URL or parameter


def test_an_unknown_payment_method_is_a_missing_resource(fake_stripe):
    answer = post(fake_stripe.url, "/v1/payment_intents", an_intent(payment_method="pm_unknown1"))

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["type"], error["code"], error["param"], error["message"]) == (
        "invalid_request_error",
        "resource_missing",
        "payment_method",
        "No such PaymentMethod: 'pm_unknown1'",
    )


def test_an_unknown_confirmation_token_is_a_missing_resource(fake_stripe):
    form = an_intent(confirmation_token="ctoken_unknown123")
    del form["payment_method"]

    answer = post(fake_stripe.url, "/v1/payment_intents", form)

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["type"], error["code"], error["param"], error["message"]) == (
        "invalid_request_error",
        "resource_missing",
        "confirmation_token",
        "No such confirmationtoken: 'ctoken_unknown123'",
    )


# localstripe's own features still work behind the extensions


def test_stripe_js_stand_in_is_served(fake_stripe):
    script = requests.get(f"{fake_stripe.url}/js.stripe.com/v3/", timeout=10)

    assert script.status_code == 200
    assert "LOCALSTRIPE_BASE_API" in script.text


@pytest.mark.parametrize("number", ["4000002760003184", "4000000000003220"])
def test_3d_secure_can_be_completed_through_the_authenticate_route(fake_stripe, number):
    method = post(fake_stripe.url, "/v1/payment_methods",
                  {"type": "card", **card_form(number)}).json()["id"]
    intent = post(fake_stripe.url, "/v1/payment_intents",
                  an_intent(payment_method=method)).json()
    assert intent["status"] == "requires_action"

    done = requests.post(
        f"{fake_stripe.url}/v1/payment_intents/{intent['id']}/_authenticate?success=true",
        data={"key": "pk_test_12345", "client_secret": intent["client_secret"]}, timeout=10,
    )

    assert done.status_code == 200, done.text
    assert done.json()["status"] == "succeeded"


def test_webhooks_can_be_registered(fake_stripe):
    answer = requests.post(
        f"{fake_stripe.url}/_config/webhooks/{uuid.uuid4().hex}",
        data={"url": "http://127.0.0.1:9/never-called", "secret": "whsec_test",
              "events[0]": "fakestripe.test_never_sent"},
        timeout=10,
    )

    assert answer.status_code == 200


def test_the_process_exits_cleanly_when_stopped():
    from fakestripe.launcher import start_fake_stripe

    server = start_fake_stripe()

    assert server.stop() == 0
