"""How many Stripe API calls one purchase costs the server, against the fake Stripe."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import stripe
from webtest import TestApp

from framesell import main
from framesell.domain.money import Money
from tests.api.conftest import PASSWORD, SETTINGS, unique_email
from tests.fixtures.stripe import SECRET_KEY

pytestmark = [pytest.mark.stripe, pytest.mark.slow]


@pytest.fixture
def stripe_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every request the app's StripeGateway sends from now on: (method, path)."""
    calls: list[tuple[str, str]] = []

    class CountingClient(stripe.RequestsClient):
        def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
            calls.append((method.upper(), urlsplit(url).path))
            return super().request(method, url, headers, post_data)

    monkeypatch.setattr(stripe, "RequestsClient", CountingClient)
    return calls


@pytest.fixture
def shop(fake_stripe: Any, stripe_calls: list[tuple[str, str]]) -> Iterator[TestApp]:
    """The app paying at the fake Stripe, with no Stripe call counted yet."""
    app = TestApp(
        main(
            {},
            **{
                **SETTINGS,
                "framesell.payment": "stripe",
                "framesell.stripe.secret_key": SECRET_KEY,
                "framesell.stripe.api_base": fake_stripe.url,
            },
        )
    )
    yield app
    app.app.registry.framesell_shop.close()


def _buy(app: TestApp, payment_token: str) -> dict[str, Any]:
    shop = app.app.registry.framesell_shop
    product = shop.catalog.add_product(
        "Bridge", "https://photos.example.com/b.jpg", Money.from_major("59.99")
    )
    email = unique_email()
    shop.users.register(first_name="Foo", last_name="Bar", email=email, password=PASSWORD)
    token = shop.users.log_in(email, PASSWORD)
    answer = app.post_json(
        "/api/order/",
        {"token": payment_token, "product": product.id},
        headers={"Authorization": f"JWT {token}"},
        status=201,
    )
    order: dict[str, Any] = answer.json["order"]
    return order


def _payment_method_from_the_browser(fake_stripe: Any) -> str:
    """What Stripe.js's createPaymentMethod posts, with the shop's publishable key."""
    made = requests.post(
        f"{fake_stripe.url}/v1/payment_methods",
        data={
            "type": "card",
            "key": "pk_test_shop",
            "card[number]": "4242424242424242",
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
        },
        timeout=10,
    )
    assert made.status_code == 200, made.text
    method_id: str = made.json()["id"]
    return method_id


def test_a_purchase_paid_with_a_payment_method_is_one_stripe_call(
    shop: TestApp, fake_stripe: Any, stripe_calls: list[tuple[str, str]]
) -> None:
    method = _payment_method_from_the_browser(fake_stripe)
    order = _buy(shop, method)
    assert order["paymentstatus"] == "PAID"
    assert stripe_calls == [("POST", "/v1/payment_intents")]


def test_a_2017_card_token_still_pays_with_two_calls(
    shop: TestApp, stripe_calls: list[tuple[str, str]]
) -> None:
    order = _buy(shop, "tok_visa")
    assert order["paymentstatus"] == "PAID"
    assert stripe_calls == [("POST", "/v1/payment_methods"), ("POST", "/v1/payment_intents")]
