"""Structured request logs with request ids, and no secret in any log line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp

from framesell.domain.models import Product
from framesell.entrypoints.logs import redact
from tests.api.conftest import JWT_SECRET, PASSWORD, Captured, unique_email

CARD_TOKEN = "tok_visa"


def test_each_request_logs_one_json_line_with_its_facts(app: TestApp, logs: Captured) -> None:
    response = app.get("/api/product/", headers={"X-Request-ID": "abc-123"}, status=200)
    assert response.headers["X-Request-ID"] == "abc-123"
    [line] = logs.requests()
    assert line["method"] == "GET"
    assert line["path"] == "/api/product/"
    assert line["status"] == 200
    assert line["request_id"] == "abc-123"
    assert line["user_id"] is None
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert line["level"] == "INFO"
    assert line["time"].endswith("Z")


def test_a_request_without_an_id_gets_a_fresh_one_echoed_back(app: TestApp, logs: Captured) -> None:
    first = app.get("/api/product/").headers["X-Request-ID"]
    second = app.get("/api/product/").headers["X-Request-ID"]
    assert len(first) == 32 and first != second
    assert [line["request_id"] for line in logs.requests()] == [first, second]


@pytest.mark.parametrize("offered", ["x" * 129, "has spaces", "new\nline", "<script>"])
def test_an_unusable_request_id_is_replaced(app: TestApp, offered: str) -> None:
    echoed = app.get("/api/product/", headers={"X-Request-ID": offered}).headers["X-Request-ID"]
    assert echoed != offered and len(echoed) == 32


def test_an_authenticated_request_logs_the_user_id(
    app: TestApp, shopper: dict[str, Any], logs: Captured
) -> None:
    me = app.get("/api/me/", headers=shopper["headers"], status=200).json
    [line] = logs.requests()
    assert line["user_id"] == me["id"]


def test_errors_are_logged_with_their_status(app: TestApp, logs: Captured) -> None:
    app.get("/api/no-such-thing/", status=404)
    assert [line["status"] for line in logs.requests()] == [404]


def test_no_password_token_card_token_or_key_reaches_any_log_line(
    app: TestApp, logs: Captured, add_product: Callable[..., Product]
) -> None:
    email = unique_email("logged")
    signup = {"first_name": "Foo", "last_name": "Bar", "email": email, "password": PASSWORD}
    app.post_json("/api/signup/", signup, status=201)
    token = app.post_json(
        "/api/api-token-auth/", {"username": email, "password": PASSWORD}, status=200
    ).json["token"]
    headers = {"Authorization": f"JWT {token}"}
    product = add_product()
    app.post_json("/api/order/", {"token": CARD_TOKEN, "product": product.id}, headers=headers)
    app.post_json(
        "/api/api-token-auth/", {"username": email, "password": "wrong " + PASSWORD}, status=400
    )
    # And a careless line, as a future bug might write, is redacted all the same.
    logging.getLogger("framesell.careless").warning(
        "request %s with %s",
        {"username": email, "password": PASSWORD, "token": CARD_TOKEN},
        {"HTTP_AUTHORIZATION": f"JWT {token}"},
        extra={"stripe_key": "sk_test_51Hcareless", "webhook": "whsec_careless123"},
    )

    assert len(logs.requests()) == 4
    assert all(line.get("request_id") for line in logs.requests())
    for secret in (PASSWORD, token, CARD_TOKEN, JWT_SECRET, "sk_test_51Hcareless",
                   "whsec_careless123", token.split(".")[2]):
        assert secret not in logs.text
    assert "[REDACTED" in logs.text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"username": "a@b.com", "password": "hunter2 is long"}', "hunter2"),
        ("password=hunter22&username=a", "hunter22"),
        ("{'password': 'it\\'s secret'}", "secret'"),
        ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
        ("Authorization: Basic dTpw", "dTpw"),
        ("header JWT eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "c2lnbmF0dXJl"),
        ("paid with tok_1NlQ7c2eZvKYlo2C and pm_card_visa", "tok_1NlQ7c2eZvKYlo2C"),
        ("paid with pm_card_visa", "pm_card_visa"),
        ("confirmed ctoken_1Abc23dEf", "ctoken_1Abc23dEf"),
        ("key sk_live_51H8xyzABC and rk_test_12345", "sk_live_51H8xyzABC"),
        ("webhook secret whsec_abc123def", "whsec_abc123def"),
        ("client secret pi_3Nabc_secret_XyZ987", "XyZ987"),
    ],
)
def test_redact_removes_each_kind_of_secret(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_redact_keeps_ordinary_text() -> None:
    text = "GET /api/order/ 201 order 14 paid by pi_3Nabc (card_declined? no) in 12.5 ms"
    assert redact(text) == text
