"""Password rules at sign-up (8 to 1024 characters) and the rehash on log-in."""

from __future__ import annotations

from webtest import TestApp

from framesell.bootstrap import Shop, bootstrap
from framesell.entrypoints.http import make_app
from framesell.settings import Settings
from tests.api.conftest import SETTINGS, unique_email


def signup(app: TestApp, password: str, status: int) -> tuple[str, dict[str, object]]:
    email = unique_email("password")
    body = {"first_name": "Foo", "last_name": "Bar", "email": email, "password": password}
    return email, app.post_json("/api/signup/", body, status=status).json


def test_a_password_of_1024_characters_signs_up_and_logs_in(app: TestApp) -> None:
    password = "p" * 1024
    email, body = signup(app, password, 201)
    assert body == {"success": True}
    login = {"username": email, "password": password}
    assert "token" in app.post_json("/api/api-token-auth/", login, status=200).json


def test_a_password_of_1025_characters_is_refused_at_signup(app: TestApp) -> None:
    _, body = signup(app, "p" * 1025, 400)
    assert body["success"] is False
    assert body["error"] == "password must be at most 1024 characters"


def test_a_password_of_8_characters_is_enough_and_7_are_not(app: TestApp) -> None:
    signup(app, "p" * 8, 201)
    _, body = signup(app, "p" * 7, 400)
    assert body["error"] == "password must be at least 8 characters"


def argon2_parameters(password_hash: str) -> str:
    """The ``m=…,t=…,p=…`` part of an encoded argon2 hash."""
    return password_hash.split("$")[3]


def test_a_hash_with_older_argon2_parameters_is_replaced_at_the_next_log_in(
    app: TestApp, shop: Shop
) -> None:
    password = "correct horse battery"
    email, _ = signup(app, password, 201)
    old = shop.users.find_by_email(email)
    assert old is not None and argon2_parameters(old.password_hash) == "m=1024,t=1,p=1"

    # The same data, served by a shop restarted with stronger argon2 settings.
    stronger = {**SETTINGS, "framesell.argon2.memory_cost_kib": "2048"}
    upgraded = bootstrap(Settings.from_mapping(stronger, {}), storage=shop.storage)
    TestApp(make_app(upgraded, stronger)).post_json(
        "/api/api-token-auth/", {"username": email, "password": password}, status=200
    )

    new = upgraded.users.find_by_email(email)
    assert new is not None
    assert argon2_parameters(new.password_hash) == "m=2048,t=1,p=1"
    assert new.password_hash != old.password_hash


def test_a_wrong_password_leaves_an_old_hash_alone(app: TestApp, shop: Shop) -> None:
    email, _ = signup(app, "correct horse battery", 201)
    old = shop.users.find_by_email(email)
    stronger = {**SETTINGS, "framesell.argon2.memory_cost_kib": "2048"}
    upgraded = bootstrap(Settings.from_mapping(stronger, {}), storage=shop.storage)
    TestApp(make_app(upgraded, stronger)).post_json(
        "/api/api-token-auth/", {"username": email, "password": "wrong password"}, status=400
    )
    assert upgraded.users.find_by_email(email) == old
