"""Card testing and mass sign-up: declines per shopper and per address, sign-ups per address."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from webtest import TestApp

from framesell.adapters.memory import FixedClock
from framesell.bootstrap import Shop, bootstrap
from framesell.domain.money import Money
from framesell.entrypoints.http import make_app
from framesell.settings import ConfigurationError, Settings
from tests.api.conftest import PASSWORD, SETTINGS, unique_email

DECLINED = "pm_card_chargeDeclined"
GOOD = "pm_card_visa"
TOO_MANY_DECLINES = "too many declined payments; try again later"
TOO_MANY_SIGNUPS = "too many new accounts from this address; try again later"
HOME = "198.51.100.10"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def app_on(clock: FixedClock, **extra: str) -> TestApp:
    # Tokens outlive the hours these tests move the clock by.
    settings = {**SETTINGS, "framesell.jwt.lifetime_seconds": "86400", **extra}
    return TestApp(make_app(bootstrap(Settings.from_mapping(settings, {}), clock=clock), settings))


@pytest.fixture
def app(clock: FixedClock) -> TestApp:
    return app_on(clock)


def shop_of(app: TestApp) -> Shop:
    found: Shop = app.app.registry.framesell_shop
    return found


def product_of(app: TestApp) -> int:
    shop = shop_of(app)
    url = f"https://photos.example.com/{unique_email()}.jpg"
    product = shop.catalog.add_product("Bridge", url, Money.from_major("10"))
    assert product.id is not None
    return product.id


def shopper(app: TestApp, address: str = HOME) -> dict[str, str]:
    email = unique_email("carder")
    body = {"first_name": "Foo", "last_name": "Bar", "email": email, "password": PASSWORD}
    app.post_json("/api/signup/", body, extra_environ={"REMOTE_ADDR": "192.0.2.250"}, status=201)
    token = app.post_json(
        "/api/api-token-auth/", {"username": email, "password": PASSWORD}, status=200
    ).json["token"]
    return {"Authorization": f"JWT {token}"}


def buy(
    app: TestApp,
    auth: dict[str, str],
    product: int,
    token: str,
    status: int,
    address: str = HOME,
    key: str | None = None,
) -> Any:
    headers = auth if key is None else {**auth, "Idempotency-Key": key}
    return app.post_json(
        "/api/order/",
        {"token": token, "product": product},
        headers=headers,
        extra_environ={"REMOTE_ADDR": address},
        status=status,
    )


def test_after_five_declines_a_shoppers_purchases_are_429_without_reaching_the_gateway(
    app: TestApp,
) -> None:
    auth, product = shopper(app), product_of(app)
    for _ in range(5):
        buy(app, auth, product, DECLINED, 402)
    payments = len(shop_of(app).gateway.payments)
    refused = buy(app, auth, product, GOOD, 429, address="203.0.113.77")
    assert refused.json == {"success": False, "error": TOO_MANY_DECLINES}
    assert refused.headers["Retry-After"] == str(3600)
    assert len(shop_of(app).gateway.payments) == payments


def test_the_limit_lifts_when_the_oldest_decline_is_an_hour_old(
    app: TestApp, clock: FixedClock
) -> None:
    auth, product = shopper(app), product_of(app)
    for _ in range(5):
        buy(app, auth, product, DECLINED, 402)
        clock.advance(timedelta(minutes=1))
    wait = int(buy(app, auth, product, GOOD, 429).headers["Retry-After"])
    assert wait == 3600 - 5 * 60
    clock.advance(timedelta(seconds=wait))
    buy(app, auth, product, GOOD, 201)


def test_paid_purchases_never_count(app: TestApp) -> None:
    auth, product = shopper(app), product_of(app)
    for _ in range(4):
        buy(app, auth, product, DECLINED, 402)
    for _ in range(10):
        buy(app, auth, product, GOOD, 201)
    buy(app, auth, product, DECLINED, 402)
    buy(app, auth, product, GOOD, 429)


def test_twenty_declines_from_one_address_stop_every_shopper_there(app: TestApp) -> None:
    product = product_of(app)
    for _ in range(5):
        auth = shopper(app)
        for _ in range(4):
            buy(app, auth, product, DECLINED, 402)
    newcomer = shopper(app)
    assert buy(app, newcomer, product, GOOD, 429).json["error"] == TOO_MANY_DECLINES
    buy(app, newcomer, product, GOOD, 201, address="203.0.113.1")


def test_with_idempotency_keys_declines_count_per_shopper_and_per_address_alike(
    app: TestApp,
) -> None:
    # Keyed purchases (what the shop's own pages send) go through PlaceOrderOnce.
    keys = iter(range(1000))
    product, carder = product_of(app), shopper(app)
    for _ in range(5):
        buy(app, carder, product, DECLINED, 402, key=f"k{next(keys)}")
    refused = buy(app, carder, product, GOOD, 429, address="203.0.113.78", key="k-late")
    assert refused.json == {"success": False, "error": TOO_MANY_DECLINES}
    # Twenty keyed declines from one address stop a newcomer there, and only there.
    for _ in range(5):
        auth = shopper(app)
        for _ in range(4):
            buy(app, auth, product, DECLINED, 402, address="198.51.100.99", key=f"k{next(keys)}")
    newcomer = shopper(app)
    stopped = buy(app, newcomer, product, GOOD, 429, address="198.51.100.99", key="k-after")
    assert stopped.json == {"success": False, "error": TOO_MANY_DECLINES}
    buy(app, newcomer, product, GOOD, 201, address="203.0.113.2", key="k-elsewhere")


def test_the_limits_are_settings(clock: FixedClock) -> None:
    app = app_on(clock, **{"framesell.payments.max_failures_per_shopper": "2"})
    auth, product = shopper(app), product_of(app)
    buy(app, auth, product, DECLINED, 402)
    buy(app, auth, product, DECLINED, 402)
    buy(app, auth, product, GOOD, 429)


def test_a_failed_3d_secure_counts_and_confirm_is_refused_over_the_limit(app: TestApp) -> None:
    auth, product = shopper(app), product_of(app)
    shop = shop_of(app)
    orders = []
    for _ in range(5):
        placed = buy(app, auth, product, "pm_card_threeDSecure2Required", 402).json["order"]
        (payment,) = shop.gateway.payments_for_order(placed["id"])
        shop.gateway.complete_authentication(payment.id, succeed=False)
        orders.append(placed["id"])
    for order_id in orders[:4]:
        path = f"/api/order/{order_id}/confirm/"
        for _ in range(3):  # asking again about a failed order does not count it again
            app.post(path, headers=auth, extra_environ={"REMOTE_ADDR": HOME}, status=402)
    buy(app, auth, product, GOOD, 201)
    path = f"/api/order/{orders[4]}/confirm/"
    app.post(path, headers=auth, extra_environ={"REMOTE_ADDR": HOME}, status=402)
    refused = app.post(path, headers=auth, extra_environ={"REMOTE_ADDR": HOME}, status=429)
    assert refused.json == {
        "status": "error",
        "errors": [{"location": "body", "name": "", "description": TOO_MANY_DECLINES}],
    }
    assert int(refused.headers["Retry-After"]) > 0


def sign_up(app: TestApp, address: str, status: int) -> Any:
    body = {"first_name": "Foo", "last_name": "Bar", "email": unique_email(), "password": PASSWORD}
    return app.post_json(
        "/api/signup/", body, extra_environ={"REMOTE_ADDR": address}, status=status
    )


def test_twenty_signups_from_one_address_in_an_hour_then_429(
    app: TestApp, clock: FixedClock
) -> None:
    for _ in range(20):
        sign_up(app, "2001:db8:5:6::1", 201)
        clock.advance(timedelta(seconds=10))
    refused = sign_up(app, "2001:db8:5:6::99", 429)  # the same /64
    assert refused.json == {"success": False, "error": TOO_MANY_SIGNUPS}
    assert refused.headers["Retry-After"] == str(3600 - 200)
    sign_up(app, "2001:db8:5:7::1", 201)


def test_refused_signups_do_not_count(app: TestApp) -> None:
    for _ in range(30):
        body = {"first_name": "", "last_name": "B", "email": unique_email(), "password": PASSWORD}
        app.post_json("/api/signup/", body, extra_environ={"REMOTE_ADDR": HOME}, status=400)
    sign_up(app, HOME, 201)


@pytest.mark.parametrize(
    "key",
    [
        "framesell.payments.max_failures_per_shopper",
        "framesell.payments.max_failures_per_address",
        "framesell.payments.failure_window_seconds",
        "framesell.signup.max_per_address",
        "framesell.signup.window_seconds",
    ],
)
def test_an_unworkable_limit_stops_the_start(key: str) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_mapping({**SETTINGS, key: "0"}, {})
