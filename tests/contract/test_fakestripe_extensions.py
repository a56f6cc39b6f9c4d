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


# f. Refunds, PaymentIntent lists, cancels, disputes, minimum charges, spent tokens


class EventInbox:
    """A webhook endpoint on a free port that keeps every event the fake Stripe sends."""

    def __init__(self) -> None:
        import http.server
        import json
        import threading

        received: list[dict] = []
        self.received = received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, event_type: str, about: str, timeout: float = 10) -> dict:
        """The first event of this type whose object is ``about`` or names it."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.received:
                obj = event["data"]["object"]
                if event["type"] == event_type and about in (
                    obj.get("id"), obj.get("payment_intent"), obj.get("charge")
                ):
                    return event
            time.sleep(0.1)
        raise AssertionError(f"no {event_type} for {about}: {self.received}")

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def inbox(fake_stripe):
    from fakestripe.webhooks import WEBHOOK_EVENTS, register_webhook

    box = EventInbox()
    # One name for every test: each registration replaces the previous test's endpoint.
    register_webhook(fake_stripe.url, box.url, "whsec_test", WEBHOOK_EVENTS, name="inbox")
    yield box
    box.close()


def a_paid_intent(url: str, amount: str = "10000", method: str = "pm_card_visa") -> dict:
    intent = post(url, "/v1/payment_intents", an_intent(amount=amount, payment_method=method))
    assert intent.status_code == 200, intent.text
    return intent.json()


def test_every_refund_sends_charge_refunded_with_the_amount_refunded_so_far(fake_stripe, inbox):
    intent = a_paid_intent(fake_stripe.url)

    first = post(fake_stripe.url, "/v1/refunds",
                 {"payment_intent": intent["id"], "amount": "2500"})
    assert first.status_code == 200, first.text
    event = inbox.wait_for("charge.refunded", intent["id"])
    assert (event["data"]["object"]["amount_refunded"], event["data"]["object"]["refunded"]) == (
        2500, False
    )
    rest = post(fake_stripe.url, "/v1/refunds", {"payment_intent": intent["id"]})
    assert rest.status_code == 200 and rest.json()["amount"] == 7500
    charge = requests.get(f"{fake_stripe.url}/v1/payment_intents/{intent['id']}",
                          params={"expand[]": "latest_charge"}, headers=AUTH, timeout=10)
    assert charge.json()["latest_charge"]["amount_refunded"] == 10000
    assert len([e for e in inbox.received if e["type"] == "charge.refunded"]) >= 1


def test_a_refund_of_more_than_is_left_or_of_nothing_left_is_refused(fake_stripe):
    intent = a_paid_intent(fake_stripe.url)
    post(fake_stripe.url, "/v1/refunds", {"payment_intent": intent["id"], "amount": "9000"})

    too_much = post(fake_stripe.url, "/v1/refunds",
                    {"payment_intent": intent["id"], "amount": "1001"})
    assert too_much.status_code == 400
    assert too_much.json()["error"]["message"] == (
        "Refund amount ($10.01) is greater than unrefunded amount on charge ($10.00)"
    )
    post(fake_stripe.url, "/v1/refunds", {"payment_intent": intent["id"]})
    again = post(fake_stripe.url, "/v1/refunds", {"payment_intent": intent["id"]})
    assert (again.status_code, again.json()["error"]["code"]) == (400, "charge_already_refunded")


def test_payment_intents_are_listed_by_creation_time(fake_stripe):
    import time

    intent = a_paid_intent(fake_stripe.url)
    created = intent["created"]
    found = requests.get(
        f"{fake_stripe.url}/v1/payment_intents",
        params={"created[gte]": created, "created[lte]": created + 1, "limit": 100},
        headers=AUTH, timeout=10,
    ).json()
    later_only = requests.get(
        f"{fake_stripe.url}/v1/payment_intents",
        params={"created[gt]": int(time.time()) + 5}, headers=AUTH, timeout=10,
    ).json()
    assert intent["id"] in [i["id"] for i in found["data"]]
    assert later_only["data"] == []


def test_a_payment_intent_under_the_minimum_charge_is_refused(fake_stripe):
    small = post(fake_stripe.url, "/v1/payment_intents", an_intent(amount="49"))

    assert small.status_code == 400
    assert (small.json()["error"]["code"], small.json()["error"]["param"]) == (
        "amount_too_small", "amount"
    )


def test_a_card_token_can_be_used_once(fake_stripe):
    token = post(fake_stripe.url, "/v1/tokens", card_form("4242424242424242")).json()["id"]
    first = post(fake_stripe.url, "/v1/payment_methods", {"type": "card", "card[token]": token})
    second = post(fake_stripe.url, "/v1/payment_methods", {"type": "card", "card[token]": token})

    assert first.status_code == 200
    assert (second.status_code, second.json()["error"]["code"]) == (400, "token_already_used")


def test_canceling_sends_payment_intent_canceled(fake_stripe, inbox):
    method = post(fake_stripe.url, "/v1/payment_methods",
                  {"type": "card", **card_form("4000002760003184")}).json()["id"]
    intent = post(fake_stripe.url, "/v1/payment_intents", an_intent(payment_method=method)).json()

    post(fake_stripe.url, f"/v1/payment_intents/{intent['id']}/cancel", {})

    assert inbox.wait_for("payment_intent.canceled", intent["id"])["data"]["object"][
        "status"] == "canceled"


def test_the_dispute_test_card_is_disputed_and_closing_the_dispute_loses_it(fake_stripe, inbox):
    method = post(fake_stripe.url, "/v1/payment_methods",
                  {"type": "card", **card_form("4000000000000259")}).json()["id"]
    intent = a_paid_intent(fake_stripe.url, method=method)

    created = inbox.wait_for("charge.dispute.created", intent["id"])["data"]["object"]
    assert (created["status"], created["reason"], created["amount"]) == (
        "needs_response", "fraudulent", 10000
    )
    closed = post(fake_stripe.url, f"/v1/disputes/{created['id']}/close", {})
    assert closed.json()["status"] == "lost"
    event = inbox.wait_for("charge.dispute.closed", intent["id"])
    assert event["data"]["object"]["status"] == "lost"


# Stripe.js's createPaymentMethod


def test_the_stripe_js_stand_in_creates_payment_methods(fake_stripe):
    script = requests.get(f"{fake_stripe.url}/js.stripe.com/v3/", timeout=10)

    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "stripe.createPaymentMethod = async function" in script.text
    assert "/v1/payment_methods" in script.text


def test_a_publishable_key_creates_a_card_payment_method_as_stripe_js_does(fake_stripe):
    made = post(fake_stripe.url, "/v1/payment_methods",
                {"type": "card", "key": "pk_test_shop", "payment_user_agent": "stripe.js",
                 **card_form("4242424242424242")}, auth={})

    assert made.status_code == 200, made.text
    method = made.json()
    assert method["id"].startswith("pm_")
    assert method["card"]["last4"] == "4242"
    paid = post(fake_stripe.url, "/v1/payment_intents", an_intent(payment_method=method["id"]))
    assert paid.json()["status"] == "succeeded"


def test_without_any_key_a_payment_method_is_unauthorized(fake_stripe):
    refused = post(fake_stripe.url, "/v1/payment_methods",
                   {"type": "card", **card_form("4242424242424242")}, auth={})
    with_secret_as_key = post(fake_stripe.url, "/v1/payment_methods",
                              {"type": "card", "key": SECRET_KEY,
                               **card_form("4242424242424242")}, auth={})

    assert (refused.status_code, with_secret_as_key.status_code) == (401, 401)


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
