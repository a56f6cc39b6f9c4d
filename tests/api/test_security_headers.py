"""Security headers on every response: the API's strict CSP, the frontend's Stripe.js CSP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from tests.api.conftest import SETTINGS, served

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def frontend_policy(stripe: str, *, stripe_api: str = "", stripe_frames: str = "") -> str:
    return (
        "default-src 'self'; "
        f"script-src 'self' {stripe}; "
        f"frame-src {stripe}{stripe_frames}; "
        f"connect-src 'self' {stripe}{stripe_api}; "
        "img-src 'self' data: https:; "
        "style-src 'self'; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def shop(monkeypatch: pytest.MonkeyPatch, **extra: str) -> TestApp:
    for variable in ("FRAMESELL_STORAGE", "FRAMESELL_PAYMENT", "FRAMESELL_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    settings = {**SETTINGS, "framesell.frontend_dir": str(FRONTEND), **extra}
    return TestApp(served(settings))


def assert_common_headers(response: Any) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/product/", 200),
        ("GET", "/api/product", 200),
        ("GET", "/api/health/", 200),
        ("GET", "/api/order/", 403),
        ("POST", "/api/api-token-auth/", 400),
        ("GET", "/api/no-such-endpoint/", 404),
        ("DELETE", "/api/product/", 405),
    ],
)
def test_api_responses_carry_every_header_and_the_strict_policy(
    monkeypatch: pytest.MonkeyPatch, method: str, path: str, status: int
) -> None:
    response = shop(monkeypatch).request(path, method=method, status=status)
    assert_common_headers(response)
    assert response.headers["Content-Security-Policy"] == API_POLICY


def test_a_cors_preflight_carries_the_headers_too(monkeypatch: pytest.MonkeyPatch) -> None:
    response = shop(monkeypatch, **{"framesell.cors_origins": "https://shop.example.com"}).options(
        "/api/order/",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
        },
        status=204,
    )
    assert_common_headers(response)
    assert response.headers["Content-Security-Policy"] == API_POLICY


def test_a_refused_oversized_body_carries_the_headers_too(monkeypatch: pytest.MonkeyPatch) -> None:
    response = shop(monkeypatch).post(
        "/api/signup/", b"x" * (65 * 1024), content_type="application/json", status=413
    )
    assert_common_headers(response)


@pytest.mark.parametrize("path", ["/", "/index.html", "/config.js", "/css/shop.css", "/nothing"])
def test_frontend_responses_allow_only_the_shop_and_stripe_js(
    monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    app = shop(monkeypatch, **{"framesell.stripe.js_url": "http://127.0.0.1:8420/js.stripe.com/v3/"})
    response = app.get(path, status="*")
    assert_common_headers(response)
    assert response.headers["Content-Security-Policy"] == frontend_policy("http://127.0.0.1:8420")


def test_with_stripe_itself_the_policy_adds_stripes_api_and_3ds_frames(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = shop(monkeypatch, **{"framesell.stripe.js_url": "https://js.stripe.com/v3/"})
    response = app.get("/", status=200)
    assert response.headers["Content-Security-Policy"] == frontend_policy(
        "https://js.stripe.com",
        stripe_api=" https://api.stripe.com",
        stripe_frames=" https://hooks.stripe.com",
    )


HSTS = "Strict-Transport-Security"
PROXY = {"framesell.trusted_proxies": "10.0.0.0/8"}


@pytest.mark.parametrize("path", ["/api/product/", "/api/product/?q=1", "/api/health/", "/"])
def test_hsts_is_sent_when_a_trusted_proxy_says_the_request_came_over_https(
    monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    app = shop(monkeypatch, **PROXY)
    response = app.get(
        path,
        headers={"X-Forwarded-Proto": "https"},
        extra_environ={"REMOTE_ADDR": "10.0.0.1"},
        expect_errors=True,
    )
    assert response.headers[HSTS] == "max-age=31536000"


def test_hsts_is_sent_when_the_server_itself_speaks_https(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = shop(monkeypatch)
    response = app.get("/api/product/", extra_environ={"wsgi.url_scheme": "https"})
    assert response.headers[HSTS] == "max-age=31536000"


@pytest.mark.parametrize(
    ("peer", "proto"),
    [
        ("203.0.113.5", "https"),  # a client cannot claim https by writing the header
        ("10.0.0.1", "http"),
        ("10.0.0.1", "https, http"),  # the nearest proxy's word counts
    ],
)
def test_no_hsts_over_plain_http(monkeypatch: pytest.MonkeyPatch, peer: str, proto: str) -> None:
    app = shop(monkeypatch, **PROXY)
    for path in ("/api/product/", "/api/health/"):
        response = app.get(
            path, headers={"X-Forwarded-Proto": proto}, extra_environ={"REMOTE_ADDR": peer}
        )
        assert HSTS not in response.headers
