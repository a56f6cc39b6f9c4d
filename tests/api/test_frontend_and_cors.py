"""CORS for a frontend on another host, and the development server's frontend and /config.js."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from webtest import TestApp

from tests.api.conftest import SETTINGS, served

SHOP = "https://shop.example.com"
OTHER_SHOP = "https://www.framesell.example"
STRANGER = "https://evil.example.net"
FRONTEND_DIR = Path(__file__).resolve().parents[2] / "frontend"


def build_app(monkeypatch: pytest.MonkeyPatch, **extra: str) -> TestApp:
    """The app as pserve builds it, with the API tests' settings plus ``extra``."""
    for variable in (
        "FRAMESELL_STORAGE",
        "FRAMESELL_PAYMENT",
        "FRAMESELL_DATABASE_URL",
        "FRAMESELL_CORS_ORIGINS",
        "FRAMESELL_STRIPE_PUBLISHABLE_KEY",
    ):
        monkeypatch.delenv(variable, raising=False)
    return TestApp(served({**SETTINGS, **extra}))


@pytest.fixture
def cors_app(monkeypatch: pytest.MonkeyPatch) -> TestApp:
    """The API with two allowed frontend origins."""
    return build_app(monkeypatch, **{"framesell.cors_origins": f"{SHOP} {OTHER_SHOP}"})


def preflight(app: TestApp, origin: str, method: str = "POST") -> object:
    """The OPTIONS request a browser sends before a POST /api/order/ with a token and a key."""
    return app.options(
        "/api/order/",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
        status=204,
    )


def listed(header: str) -> set[str]:
    """The comma-separated values of a header, lower-cased."""
    return {value.strip().lower() for value in header.split(",") if value.strip()}


def test_a_preflight_from_an_allowed_origin_allows_the_methods_and_headers_of_a_purchase(
    cors_app: TestApp,
) -> None:
    response = preflight(cors_app, SHOP)
    assert response.body == b""
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert {"get", "post", "options"} <= listed(response.headers["Access-Control-Allow-Methods"])
    assert {"authorization", "content-type", "idempotency-key"} <= listed(
        response.headers["Access-Control-Allow-Headers"]
    )
    assert "Origin" in response.headers["Vary"]


def test_every_listed_origin_is_allowed_by_its_own_name(cors_app: TestApp) -> None:
    response = preflight(cors_app, OTHER_SHOP, method="GET")
    assert response.headers["Access-Control-Allow-Origin"] == OTHER_SHOP


def test_a_preflight_from_an_unlisted_origin_allows_nothing(cors_app: TestApp) -> None:
    response = preflight(cors_app, STRANGER)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers
    assert "Access-Control-Allow-Headers" not in response.headers


def test_api_answers_name_only_a_listed_origin_and_always_vary_on_origin(
    cors_app: TestApp,
) -> None:
    allowed = cors_app.get("/api/product/", headers={"Origin": SHOP}, status=200)
    refused = cors_app.get("/api/product/", headers={"Origin": STRANGER}, status=200)
    same_origin = cors_app.get("/api/product/", status=200)

    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Origin" not in same_origin.headers
    # A cache between the shop and the API must not serve one origin's answer to another.
    for response in (allowed, refused, same_origin):
        assert "Origin" in [value.strip() for value in response.headers["Vary"].split(",")]


def test_error_answers_are_readable_by_an_allowed_origin(cors_app: TestApp) -> None:
    response = cors_app.get("/api/order/", headers={"Origin": SHOP}, status=403)
    assert response.json == {"detail": "Authentication credentials were not provided."}
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in response.headers["Vary"]


def test_without_listed_origins_no_origin_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app(monkeypatch)
    response = app.get("/api/product/", headers={"Origin": SHOP}, status=200)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Origin" not in preflight(app, SHOP).headers


def test_config_js_gives_the_frontend_the_settings_it_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = build_app(
        monkeypatch,
        **{
            "framesell.frontend_dir": str(FRONTEND_DIR),
            "framesell.stripe.publishable_key": "pk_test_from_settings",
            "framesell.stripe.js_url": "http://127.0.0.1:8420/js.stripe.com/v3/",
        },
    )
    response = app.get("/config.js", status=200)
    assert response.content_type == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    prefix, suffix = "window.FRAMESELL_CONFIG = ", ";\n"
    assert response.text.startswith(prefix) and response.text.endswith(suffix)
    assert json.loads(response.text[len(prefix) : -len(suffix)]) == {
        "apiBase": "",
        "stripePublishableKey": "pk_test_from_settings",
        "stripeJsUrl": "http://127.0.0.1:8420/js.stripe.com/v3/",
        "shippingPrice": 9.0,  # framesell.shipping.price's default, for the cart's estimate
    }


def test_the_shop_is_served_at_the_root_when_a_frontend_dir_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = build_app(monkeypatch, **{"framesell.frontend_dir": str(FRONTEND_DIR)})
    response = app.get("/", status=200)
    assert response.content_type == "text/html"
    assert response.body == (FRONTEND_DIR / "index.html").read_bytes()
    script = app.get("/js/app.js", status=200)
    assert script.content_type in {"text/javascript", "application/javascript"}
    # The API still answers under /api/, before the frontend's catch-all route.
    assert isinstance(app.get("/api/product/", status=200).json, list)


def test_without_a_frontend_dir_the_root_and_config_js_are_not_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = build_app(monkeypatch)
    app.get("/", status=404)
    app.get("/config.js", status=404)
