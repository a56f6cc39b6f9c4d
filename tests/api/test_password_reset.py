"""POST /api/password-reset/ and /confirm/: a one-time link by mail, then a new password."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from webtest import TestApp

from framesell.adapters.memory import FixedClock, MemoryMailer
from framesell.application.users import reset_token_hash
from framesell.bootstrap import Shop, bootstrap
from framesell.domain.errors import InvalidResetToken
from framesell.entrypoints.http import make_app
from framesell.settings import Settings
from tests.api.conftest import PASSWORD, SETTINGS

ANSWER = {
    "detail": "If an account has this email, a link to choose a new password is on its way;"
    " it works once, within an hour."
}
NEW_PASSWORD = "a brand new password"


def _mailer(shop: Shop) -> MemoryMailer:
    assert isinstance(shop.mailer, MemoryMailer)
    return shop.mailer


def _token_from_mail(shop: Shop, email: str) -> str:
    deadline = time.monotonic() + 5
    while not _mailer(shop).to(email) and time.monotonic() < deadline:
        time.sleep(0.01)  # delivered on a thread of its own
    mail = _mailer(shop).to(email)[0]
    (link,) = re.findall(r"https://\S+", mail.text)
    assert link.startswith("https://shop.example.com/#/reset-password?token=")
    assert link in mail.html
    return parse_qs(urlsplit(link.replace("#/", "")).query)["token"][0]


def _log_in(app: TestApp, email: str, password: str, status: int) -> None:
    app.post_json(
        "/api/api-token-auth/", {"username": email, "password": password}, status=status
    )


def test_a_reset_link_sets_a_new_password_once(
    app: TestApp, shop: Shop, shopper: dict[str, Any]
) -> None:
    answer = app.post_json(
        "/api/password-reset/", {"email": shopper["email"].upper()}, status=202
    )
    assert answer.json == ANSWER
    token = _token_from_mail(shop, shopper["email"])
    (mail,) = _mailer(shop).to(shopper["email"])
    assert mail.subject == "Choose a new FrameSell password"
    assert "within 60 minutes" in mail.text

    done = app.post_json(
        "/api/password-reset/confirm/", {"token": token, "password": NEW_PASSWORD}, status=200
    )

    assert done.json == {"success": True}
    _log_in(app, shopper["email"], NEW_PASSWORD, 200)
    _log_in(app, shopper["email"], PASSWORD, 400)
    again = app.post_json(
        "/api/password-reset/confirm/", {"token": token, "password": "yet another one"},
        status=400,
    )
    assert again.json == {
        "status": "error",
        "errors": [{"location": "body", "name": "token",
                    "description": "this link is invalid, used or expired; ask for a new one"}],
    }  # fmt: skip
    _log_in(app, shopper["email"], NEW_PASSWORD, 200)


def test_an_unknown_email_gets_the_same_answer_and_no_mail(
    app: TestApp, shop: Shop
) -> None:
    answer = app.post_json("/api/password-reset/", {"email": "nobody@example.com"}, status=202)
    assert answer.json == ANSWER
    time.sleep(0.05)
    assert _mailer(shop).sent == []


def test_only_the_tokens_hash_is_stored(
    app: TestApp, shop: Shop, shopper: dict[str, Any]
) -> None:
    app.post_json("/api/password-reset/", {"email": shopper["email"]}, status=202)
    token = _token_from_mail(shop, shopper["email"])
    with shop.uow() as uow:
        stored = uow.password_resets.get_by_hash(reset_token_hash(token))
        assert uow.password_resets.get_by_hash(token) is None
    assert stored is not None and stored.token_hash != token
    assert stored.expires_at - stored.created_at == timedelta(hours=1)


def test_an_expired_or_wrong_token_and_a_short_password_are_400(
    app: TestApp, shop: Shop, shopper: dict[str, Any]
) -> None:
    app.post_json("/api/password-reset/", {"email": shopper["email"]}, status=202)
    token = _token_from_mail(shop, shopper["email"])
    short = app.post_json(
        "/api/password-reset/confirm/", {"token": token, "password": "short"}, status=400
    )
    assert [e["name"] for e in short.json["errors"]] == ["password"]
    wrong = app.post_json(
        "/api/password-reset/confirm/", {"token": token + "x", "password": NEW_PASSWORD},
        status=400,
    )
    assert [e["name"] for e in wrong.json["errors"]] == ["token"]
    app.post_json("/api/password-reset/confirm/", {"password": NEW_PASSWORD}, status=400)
    _log_in(app, shopper["email"], PASSWORD, 200)


def test_a_link_works_for_an_hour_only() -> None:
    clock = FixedClock()
    shop = bootstrap(Settings.from_mapping(SETTINGS, environ={}), clock=clock)
    user = shop.users.register(
        first_name="Ada", last_name="L", email="late@example.com", password=PASSWORD
    )
    shop.users.request_password_reset(user.email)
    token = _token_from_mail(shop, user.email)
    clock.advance(timedelta(minutes=59, seconds=59))
    shop.users.request_password_reset(user.email)
    second = _second_token(shop, user.email)
    assert second != token
    clock.advance(timedelta(seconds=1))

    with pytest.raises(InvalidResetToken):
        shop.users.reset_password(token, NEW_PASSWORD)  # exactly an hour old
    shop.users.reset_password(second, NEW_PASSWORD)  # a minute old
    assert shop.users.log_in(user.email, NEW_PASSWORD)


def _second_token(shop: Shop, email: str) -> str:
    deadline = time.monotonic() + 5
    while len(_mailer(shop).to(email)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    link = re.findall(r"https://\S+", _mailer(shop).to(email)[1].text)[0]
    return parse_qs(urlsplit(link.replace("#/", "")).query)["token"][0]


def test_asking_too_often_is_throttled_like_log_in(app: TestApp, shopper: dict[str, Any]) -> None:
    for _ in range(10):
        app.post_json("/api/password-reset/", {"email": shopper["email"]}, status=202)
    throttled = app.post_json("/api/password-reset/", {"email": shopper["email"]}, status=429)
    assert int(throttled.headers["Retry-After"]) > 0
    assert throttled.json == {
        "status": "error",
        "errors": [{"location": "body", "name": "", "description": "too many attempts"}],
    }
    # Log-in keeps counters of its own.
    _log_in(app, shopper["email"], PASSWORD, 200)


class SlowMailer(MemoryMailer):
    """A mail server that takes its time with every mail."""

    def send(self, mail: object) -> None:  # type: ignore[override]
        time.sleep(1.5)
        super().send(mail)  # type: ignore[arg-type]


def test_the_answer_does_not_wait_for_the_mail_server_so_it_tells_nothing() -> None:
    mailer = SlowMailer()
    shop = bootstrap(Settings.from_mapping(SETTINGS, environ={}), mailer=mailer)
    app = TestApp(make_app(shop, SETTINGS))
    shop.users.register(
        first_name="Ada", last_name="L", email="known@example.com", password=PASSWORD
    )
    timings = {}
    for email in ("known@example.com", "unknown@example.com"):
        started = time.monotonic()
        app.post_json("/api/password-reset/", {"email": email}, status=202)
        timings[email] = time.monotonic() - started

    assert max(timings.values()) < 1.0, timings  # the 1.5 s send happens after the answer
    deadline = time.monotonic() + 5
    while not mailer.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m.to for m in mailer.sent] == ["known@example.com"]


def test_one_address_asking_for_many_emails_gets_log_ins_address_limit_per_64() -> None:
    settings = {**SETTINGS, "framesell.login.address_max_failures": "20"}
    shop = bootstrap(Settings.from_mapping(settings, environ={}), clock=FixedClock())
    app = TestApp(make_app(shop, settings))
    shop.users.register(
        first_name="Ada", last_name="L", email="asker@example.com", password=PASSWORD
    )

    def ask(email: str, peer: str, status: int) -> Any:
        return app.post_json(
            "/api/password-reset/",
            {"email": email},
            extra_environ={"REMOTE_ADDR": peer},
            status=status,
        )

    # More than the email's 10, each from a new address of one subscriber's /64.
    for number in range(20):
        ask(f"someone-{number}@example.com", f"2001:db8:0:7::{number + 1:x}", 202)
    ask("asker@example.com", "2001:db8:0:7:ffff::1", 429)
    ask("asker@example.com", "2001:db8:0:8::1", 202)
    # Log-in from that /64 keeps counters of its own.
    app.post_json(
        "/api/api-token-auth/",
        {"username": "asker@example.com", "password": PASSWORD},
        extra_environ={"REMOTE_ADDR": "2001:db8:0:7::1"},
        status=200,
    )
