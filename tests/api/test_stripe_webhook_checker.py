"""The production webhook checker (StripeEventParser, the Stripe SDK) behind the HTTP API.

The other API tests run the fake gateway, whose own checker is SignedEventParser; these run
``framesell.payment = stripe`` against the fake Stripe, so a bad, old, replayed or unsigned
event meets the checker that production uses. Each refused event is about a payment that
Stripe would report as succeeded: had it been applied, the order would be PAID.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from webtest import TestApp

from framesell.adapters.stripe_webhooks import TOLERANCE_SECONDS, sign
from framesell.bootstrap import Shop
from framesell.domain.money import Money
from tests.api.conftest import SETTINGS, WEBHOOK_SECRET, served, unique_email
from tests.fixtures.events import intent_event
from tests.fixtures.stripe import SECRET_KEY, StripeLedger

pytestmark = [pytest.mark.stripe, pytest.mark.slow]

PASSWORD = "correct horse battery"
THREE_D_SECURE_CARD = "4000002760003184"
HOOK = "/api/webhooks/stripe/"


@pytest.fixture
def stripe_app(fake_stripe: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestApp]:
    """The whole app with the Stripe adapter, on the session's fake Stripe."""
    for variable in ("FRAMESELL_STORAGE", "FRAMESELL_PAYMENT", "FRAMESELL_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    settings = {
        **SETTINGS,
        "framesell.payment": "stripe",
        "framesell.stripe.secret_key": SECRET_KEY,
        "framesell.stripe.api_base": fake_stripe.url,
    }
    built = TestApp(served(settings))
    yield built
    built.app.registry.framesell_shop.close()


@pytest.fixture
def paid_at_stripe(
    stripe_app: TestApp, fake_stripe: Any
) -> tuple[Callable[[], str], dict[str, Any]]:
    """An order answered 402 (3-D Secure) whose payment then succeeded at Stripe.

    Returns a function reading the order's status through the API, and the success event.
    """
    app = stripe_app
    shop: Shop = app.app.registry.framesell_shop
    ledger = StripeLedger(fake_stripe.url)
    product = shop.catalog.add_product("Bridge", "https://x.example/b.jpg", Money(10_000))
    email = unique_email("hooked")
    body = {"first_name": "A", "last_name": "B", "email": email, "password": PASSWORD}
    app.post_json("/api/signup/", body, status=201)
    token = app.post_json("/api/api-token-auth/", {"username": email, "password": PASSWORD})
    headers = {"Authorization": f"JWT {token.json['token']}"}
    placed = app.post_json(
        "/api/order/",
        {"token": ledger.card(THREE_D_SECURE_CARD), "product": product.id},
        headers=headers,
        status=402,
    ).json
    order_id = placed["order"]["id"]
    payment_id = placed["client_secret"].split("_secret_")[0]
    # The shopper passes the bank's challenge: Stripe now reports the payment succeeded.
    stripe_client_post(
        fake_stripe.url,
        f"/v1/payment_intents/{payment_id}/_authenticate",
        f"client_secret={placed['client_secret']}&success=true",
    )

    def status() -> str:
        shown = app.get(f"/api/order/{order_id}/", headers=headers).json
        return str(shown["paymentstatus"])

    event = intent_event(f"evt_{payment_id}", "payment_intent.succeeded", payment_id, order_id)
    assert status() == "PENDING"
    return status, event


def stripe_client_post(base: str, path: str, form: str) -> None:
    """A form POST to the fake Stripe, as Stripe.js makes it."""
    import urllib.request

    request = urllib.request.Request(
        base + path,
        data=form.encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": f"Bearer {SECRET_KEY}",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def post(app: TestApp, body: bytes, signature: str | None, status: int) -> Any:
    headers = {} if signature is None else {"Stripe-Signature": signature}
    return app.post(HOOK, body, content_type="application/json", headers=headers, status=status)


def _body(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def _now() -> int:
    return int(time.time())


def _wrong_secret(body: bytes) -> tuple[bytes, str | None]:
    return body, sign(body, "whsec_not_the_shops", _now())


def _unsigned(body: bytes) -> tuple[bytes, str | None]:
    return body, None


def _empty_signature(body: bytes) -> tuple[bytes, str | None]:
    return body, ""


def _timestamp_only(body: bytes) -> tuple[bytes, str | None]:
    return body, f"t={_now()}"


def _just_too_old(body: bytes) -> tuple[bytes, str | None]:
    return body, sign(body, WEBHOOK_SECRET, _now() - TOLERANCE_SECONDS - 5)


def _a_day_old(body: bytes) -> tuple[bytes, str | None]:
    return body, sign(body, WEBHOOK_SECRET, _now() - 86_400)


def _old_signature_under_a_fresh_timestamp(body: bytes) -> tuple[bytes, str | None]:
    # A replay that rewrites t= to look recent: the signature covers the timestamp.
    old = sign(body, WEBHOOK_SECRET, _now() - 86_400).split(",")[1]
    return body, f"t={_now()},{old}"


def _future_timestamp_wrong_secret(body: bytes) -> tuple[bytes, str | None]:
    return body, sign(body, "whsec_not_the_shops", _now() + 3_600)


def _body_changed_after_signing(body: bytes) -> tuple[bytes, str | None]:
    signature = sign(body, WEBHOOK_SECRET, _now())
    return body.replace(b"payment_intent.succeeded", b"payment_intent.succeeded "), signature


def _another_scheme_only(body: bytes) -> tuple[bytes, str | None]:
    # Only v1 (HMAC-SHA256) counts; a v0 signature proves nothing.
    digest = sign(body, WEBHOOK_SECRET, _now()).split("v1=")[1]
    return body, f"t={_now()},v0={digest}"


REFUSED = [
    _wrong_secret,
    _unsigned,
    _empty_signature,
    _timestamp_only,
    _just_too_old,
    _a_day_old,
    _old_signature_under_a_fresh_timestamp,
    _future_timestamp_wrong_secret,
    _body_changed_after_signing,
    _another_scheme_only,
]


@pytest.mark.parametrize("forge", REFUSED, ids=lambda forge: forge.__name__.strip("_"))
def test_the_stripe_adapter_refuses_a_bad_old_or_unsigned_event_with_400_and_changes_nothing(
    stripe_app: TestApp,
    paid_at_stripe: tuple[Callable[[], str], dict[str, Any]],
    forge: Callable[[bytes], tuple[bytes, str | None]],
) -> None:
    status, event = paid_at_stripe
    body, signature = forge(_body(event))
    answer = post(stripe_app, body, signature, 400)
    assert answer.json == {
        "status": "error",
        "errors": [
            {
                "location": "body",
                "name": "",
                "description": "invalid or expired Stripe-Signature",
            }
        ],
    }
    assert status() == "PENDING"
    # The same event, correctly signed now, is applied: the refusal was the signature's.
    assert post(stripe_app, _body(event), sign(_body(event), WEBHOOK_SECRET, _now()), 200).json == {
        "received": True,
        "applied": True,
    }
    assert status() == "PAID"


@pytest.mark.parametrize("skew", [-(TOLERANCE_SECONDS - 30), 60])
def test_the_stripe_adapter_accepts_a_signed_event_within_the_tolerance_either_side(
    stripe_app: TestApp, paid_at_stripe: tuple[Callable[[], str], dict[str, Any]], skew: int
) -> None:
    # Stripe's clock may be a little ahead of ours, and deliveries take time.
    status, event = paid_at_stripe
    signature = sign(_body(event), WEBHOOK_SECRET, _now() + skew)
    assert post(stripe_app, _body(event), signature, 200).json == {
        "received": True,
        "applied": True,
    }
    assert status() == "PAID"
