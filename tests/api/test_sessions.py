"""Sessions end: tokens carry auth_time, refreshing keeps it, and stops after a maximum age."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from webtest import TestApp

from framesell.adapters.memory import FixedClock
from framesell.bootstrap import bootstrap
from framesell.entrypoints.http import make_app
from framesell.settings import Settings
from tests.api.conftest import JWT_SECRET, PASSWORD, SETTINGS, unique_email

REFRESH = "/api/api-token-refresh/"
TOO_OLD = {"detail": "Session has expired; log in again."}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def shop_on(clock: FixedClock, **extra: str) -> TestApp:
    settings = {**SETTINGS, **extra}
    return TestApp(make_app(bootstrap(Settings.from_mapping(settings, {}), clock=clock), settings))


@pytest.fixture
def shop(clock: FixedClock) -> TestApp:
    return shop_on(clock)


def log_in(shop: TestApp) -> str:
    email = unique_email("session")
    body = {"first_name": "Foo", "last_name": "Bar", "email": email, "password": PASSWORD}
    shop.post_json("/api/signup/", body, status=201)
    token: str = shop.post_json(
        "/api/api-token-auth/", {"username": email, "password": PASSWORD}, status=200
    ).json["token"]
    return token


def claims(token: str) -> dict[str, Any]:
    # The shop's clock stands in 2017: PyJWT's own expiry check would refuse every token.
    decoded: dict[str, Any] = jwt.decode(
        token, JWT_SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False}
    )
    return decoded


def refresh(shop: TestApp, token: str, status: int = 200) -> Any:
    return shop.post(REFRESH, headers={"Authorization": f"JWT {token}"}, status=status)


def test_a_login_token_says_when_the_password_was_checked(shop: TestApp) -> None:
    token = claims(log_in(shop))
    assert token["auth_time"] == token["iat"]


def test_refreshing_keeps_auth_time_and_moves_iat(shop: TestApp, clock: FixedClock) -> None:
    first = log_in(shop)
    clock.advance(timedelta(minutes=50))
    second = refresh(shop, first).json["token"]
    assert claims(second)["auth_time"] == claims(first)["auth_time"]
    assert claims(second)["iat"] == claims(first)["iat"] + 50 * 60


def test_refreshing_stops_seven_days_after_the_password_was_given(
    shop: TestApp, clock: FixedClock
) -> None:
    token = log_in(shop)
    refreshed = 0
    while True:
        clock.advance(timedelta(minutes=50))
        response = refresh(shop, token, status="*")
        if response.status_int != 200:
            break
        token = response.json["token"]
        refreshed += 1
    assert response.status_int == 403
    assert response.json == TOO_OLD
    assert refreshed == (7 * 24 * 60) // 50
    # The last token still works until it expires; only its refresh is refused.
    shop.get("/api/me/", headers={"Authorization": f"JWT {token}"}, status=200)


def test_the_maximum_session_age_is_a_setting(clock: FixedClock) -> None:
    shop = shop_on(clock, **{"framesell.jwt.max_session_age_seconds": "5400"})
    token = refresh(shop, log_in(shop)).json["token"]
    clock.advance(timedelta(minutes=50))
    token = refresh(shop, token).json["token"]
    clock.advance(timedelta(minutes=50))
    assert refresh(shop, token, status=403).json == TOO_OLD


def forged(clock: FixedClock, user_id: int, **times: timedelta) -> str:
    """A token signed with the shop's secret, its times relative to the clock."""
    now = clock.now()
    payload: dict[str, Any] = {"sub": str(user_id), "email": "old@example.com"}
    for claim, delta in times.items():
        payload[claim] = int((now + delta).timestamp())
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")


def test_a_token_without_auth_time_counts_its_session_from_iat(
    shop: TestApp, clock: FixedClock
) -> None:
    user_id = int(claims(log_in(shop))["sub"])
    old = forged(clock, user_id, iat=-timedelta(days=8), exp=timedelta(hours=1))
    assert refresh(shop, old, status=403).json == TOO_OLD
    recent = forged(clock, user_id, iat=-timedelta(days=6), exp=timedelta(hours=1))
    assert claims(refresh(shop, recent).json["token"])["auth_time"] == claims(recent)["iat"]


def test_an_auth_time_that_is_not_a_number_is_an_undecodable_token(
    shop: TestApp, clock: FixedClock
) -> None:
    user_id = int(claims(log_in(shop))["sub"])
    now = int(clock.now().timestamp())
    token = jwt.encode(
        {"sub": str(user_id), "email": "a@b.c", "iat": now, "exp": now + 60, "auth_time": "x"},
        JWT_SECRET,
        algorithm="HS256",
    )
    assert refresh(shop, token, status=403).json == {"detail": "Error decoding signature."}
