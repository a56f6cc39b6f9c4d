"""A Stripe that refuses our API key: 503, a CRITICAL log line, never a 500, never the key."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from webtest import TestApp

from framesell.adapters.stripe import StripeGateway
from framesell.bootstrap import bootstrap
from framesell.domain.models import Product
from framesell.domain.money import Money
from framesell.entrypoints.http import make_app
from framesell.settings import Settings
from tests.api.conftest import SETTINGS, unique_email

BAD_KEY = "rk_wrong_0123456789abcdef"  # not an sk_ key: the fake Stripe answers 401

pytestmark = [pytest.mark.stripe, pytest.mark.slow]


@pytest.fixture
def misconfigured_app(fake_stripe: Any) -> TestApp:
    gateway = StripeGateway(BAD_KEY, api_base=fake_stripe.url, max_retries=0)
    shop = bootstrap(Settings.from_mapping(SETTINGS, environ={}), gateway=gateway)
    return TestApp(make_app(shop))


def test_a_refused_api_key_is_a_503_with_a_pending_order_and_a_critical_log(
    misconfigured_app: TestApp, caplog: pytest.LogCaptureFixture
) -> None:
    app = misconfigured_app
    shop = app.app.registry.framesell_shop
    product: Product = shop.catalog.add_product("Bridge", "https://x.example/b.jpg", Money(100))
    email = unique_email()
    body = {"first_name": "A", "last_name": "B", "email": email, "password": "password12"}
    app.post_json("/api/signup/", body, status=201)
    token = app.post_json("/api/api-token-auth/", {"username": email, "password": "password12"})
    headers = {"Authorization": f"JWT {token.json['token']}"}

    with caplog.at_level(logging.DEBUG):
        response = app.post_json(
            "/api/order/",
            {"token": "pm_card_visa", "product": product.id},
            headers=headers,
            status=503,
        )

    assert response.json == {
        "success": False,
        "error": "payment service unavailable",
        "order": response.json["order"],
    }
    assert response.json["order"]["paymentstatus"] == "PENDING"
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert critical, "a misconfigured gateway must be a CRITICAL log line"
    assert all(BAD_KEY not in record.getMessage() for record in caplog.records)
    assert BAD_KEY not in response.text
