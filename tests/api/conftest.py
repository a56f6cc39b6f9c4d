"""WebTest over the app as production.ini serves it, with in-memory storage and the fake
payment gateway."""

from __future__ import annotations

import io
import itertools
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from webtest import TestApp

from framesell import main
from framesell.bootstrap import Shop
from framesell.domain.models import Product
from framesell.domain.money import Money
from framesell.entrypoints.http.fastlane import FastLane, filter_factory
from framesell.entrypoints.logs import JsonFormatter, RedactSecrets, flush_access_logs

JWT_SECRET = "api-tests-jwt-secret-of-at-least-32-bytes"
WEBHOOK_SECRET = "whsec_api_tests"
OWNER_EMAIL = "owner@example.com"
SETTINGS = {
    "framesell.environment": "test",
    "framesell.storage": "memory",
    "framesell.payment": "fake",
    "framesell.jwt.secret": JWT_SECRET,
    "framesell.stripe.webhook_secret": WEBHOOK_SECRET,
    "framesell.mail": "memory",
    "framesell.mail.owner": OWNER_EMAIL,
    "framesell.shop_url": "https://shop.example.com/",
    # Real argon2id, cheap parameters: the API tests log in hundreds of times.
    "framesell.argon2.memory_cost_kib": "1024",
    "framesell.argon2.time_cost": "1",
}
PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


def unique_email(prefix: str = "shopper") -> str:
    """An email no other test uses."""
    return f"{prefix}{next(_numbers)}@example.com"


def served(settings: dict[str, str]) -> FastLane:
    """The app as production.ini's ``[pipeline:main]`` builds it: main() behind the fast lane
    (tests/cli/test_ini_files.py holds the ini files to this)."""
    return filter_factory({})(main({}, **settings))


class CountingRouter:
    """Pyramid's router, counting the requests that reach it (put in a fast lane's place)."""

    def __init__(self, router: Any) -> None:
        self.router = router
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.router(environ, start_response)


def assert_same_answer_and_log_line(fast: Any, routed: Any, logs: Captured) -> None:
    """The fast lane's answer is the router's: status, headers, body, and the last two
    request log lines (the lane's, then the router's) alike but for time and duration."""
    assert fast.status == routed.status
    assert fast.headerlist == routed.headerlist
    assert fast.body == routed.body
    fast_line, routed_line = logs.requests()[-2:]
    ignored = {"time": None, "duration_ms": None}
    assert {**fast_line, **ignored} == {**routed_line, **ignored}
    assert list(fast_line) == list(routed_line)


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> TestApp:
    """The whole WSGI app, built as pserve would build it."""
    for variable in ("FRAMESELL_STORAGE", "FRAMESELL_PAYMENT", "FRAMESELL_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    return TestApp(served(SETTINGS))


@pytest.fixture
def shop(app: TestApp) -> Shop:
    """The shop behind ``app`` (to arrange data and look at the fake gateway)."""
    found: Shop = app.app.registry.framesell_shop
    return found


@pytest.fixture
def add_product(shop: Shop) -> Callable[..., Product]:
    """Put a product on sale: ``add_product("Parrot", "59.99")``."""

    def add(description: str = "Brooklyn Bridge", price: str = "100") -> Product:
        url = f"https://photos.example.com/{next(_numbers)}.jpg"
        return shop.catalog.add_product(description, url, Money.from_major(price))

    return add


@pytest.fixture
def sign_up(app: TestApp) -> Callable[..., dict[str, Any]]:
    """Register a shopper and log in; returns email, token and auth headers."""

    def register(first_name: str = "Foo", last_name: str = "Bar") -> dict[str, Any]:
        email = unique_email()
        app.post_json(
            "/api/signup/",
            {
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "password": PASSWORD,
            },
            status=201,
        )
        token = app.post_json(
            "/api/api-token-auth/", {"username": email, "password": PASSWORD}, status=200
        ).json["token"]
        return {"email": email, "token": token, "headers": {"Authorization": f"JWT {token}"}}

    return register


@pytest.fixture
def shopper(sign_up: Callable[..., dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """One logged-in shopper."""
    yield sign_up()


@pytest.fixture
def admin(app: TestApp, shop: Shop) -> dict[str, Any]:
    """A logged-in admin (made as ``framesell create-admin`` does)."""
    email = unique_email("admin")
    shop.users.register(
        first_name="Ada", last_name="Admin", email=email, password=PASSWORD, is_admin=True
    )
    token = app.post_json("/api/api-token-auth/", {"username": email, "password": PASSWORD}).json
    return {"headers": {"Authorization": f"JWT {token['token']}"}}


@pytest.fixture
def awaiting_3d_secure(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> tuple[dict[str, Any], str]:
    """A $100 order answered 402 requires_action, and the id of its payment at the gateway."""
    placed = app.post_json(
        "/api/order/",
        {"token": "pm_card_threeDSecure2Required", "product": add_product().id},
        headers=shopper["headers"],
        status=402,
    )
    order: dict[str, Any] = placed.json["order"]
    (payment,) = shop.gateway.payments_for_order(order["id"])  # type: ignore[attr-defined]
    return order, payment.id


class Captured:
    """Every line the root logger wrote while the fixture was active, as JSON objects."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        """The raw log output (the request log's batched lines written first)."""
        flush_access_logs()
        return self.stream.getvalue()

    @property
    def lines(self) -> list[dict[str, Any]]:
        """Each line parsed (every line must be one JSON object)."""
        return [json.loads(line) for line in self.text.splitlines()]

    def requests(self) -> list[dict[str, Any]]:
        """The access log's lines, one per request."""
        return [line for line in self.lines if line["logger"] == "framesell.access"]


@pytest.fixture
def logs() -> Iterator[Captured]:
    """A handler on the root logger configured as the ini files configure the console."""
    captured = Captured()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
