"""POST /api/api-token-auth/ under repeated failures: 429, Retry-After, backoff, proxies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from webtest import TestApp

from framesell.adapters.memory import FixedClock
from framesell.bootstrap import bootstrap
from framesell.entrypoints.http import make_app
from framesell.settings import Settings
from tests.api.conftest import PASSWORD, SETTINGS, unique_email

LOGIN = "/api/api-token-auth/"
TOO_MANY = {"detail": "too many attempts"}
PROXY = "10.0.0.1"
# Lower than the default 100, so these tests reach it quickly; still above the email's 10.
ADDRESS_LIMIT = 20


@pytest.fixture
def clock() -> FixedClock:
    """The shop's clock; tests move it instead of waiting."""
    return FixedClock()


@pytest.fixture
def shop(clock: FixedClock) -> TestApp:
    """The app on a FixedClock, trusting the proxies of 10.0.0.0/8, 20 failures per address."""
    settings = {
        **SETTINGS,
        "framesell.trusted_proxies": "10.0.0.0/8 192.168.1.1",
        "framesell.login.address_max_failures": str(ADDRESS_LIMIT),
    }
    return TestApp(make_app(bootstrap(Settings.from_mapping(settings, {}), clock=clock), settings))


def register(shop: TestApp) -> str:
    email = unique_email("throttled")
    body = {"first_name": "Foo", "last_name": "Bar", "email": email, "password": PASSWORD}
    shop.post_json("/api/signup/", body, status=201)
    return email


def log_in(
    shop: TestApp,
    email: str,
    password: str,
    *,
    peer: str = "203.0.113.9",
    forwarded_for: str | None = None,
    status: int,
) -> Any:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return shop.post_json(
        LOGIN,
        {"username": email, "password": password},
        headers=headers,
        extra_environ={"REMOTE_ADDR": peer},
        status=status,
    )


def fail(shop: TestApp, email: str, times: int = 10, **where: Any) -> None:
    for _ in range(times):
        log_in(shop, email, "wrong password", status=400, **where)


def test_ten_failures_for_an_email_make_the_next_attempt_a_429_with_retry_after(
    shop: TestApp,
) -> None:
    email = register(shop)
    fail(shop, email)
    response = log_in(shop, email, "wrong password", status=429)
    assert response.json == TOO_MANY
    assert response.headers["Retry-After"] == str(15 * 60)


def test_the_right_password_is_refused_while_the_email_is_locked(shop: TestApp) -> None:
    email = register(shop)
    fail(shop, email)
    response = log_in(shop, email, PASSWORD, peer="198.51.100.1", status=429)
    assert response.json == TOO_MANY
    assert int(response.headers["Retry-After"]) > 0


def test_the_right_password_works_again_once_retry_after_has_passed(
    shop: TestApp, clock: FixedClock
) -> None:
    email = register(shop)
    fail(shop, email)
    wait = int(log_in(shop, email, PASSWORD, status=429).headers["Retry-After"])
    clock.advance(timedelta(seconds=wait - 1))
    log_in(shop, email, PASSWORD, status=429)
    clock.advance(timedelta(seconds=1))
    assert "token" in log_in(shop, email, PASSWORD, status=200).json


def test_refused_attempts_while_locked_do_not_extend_the_lockout(
    shop: TestApp, clock: FixedClock
) -> None:
    email = register(shop)
    fail(shop, email)
    for _ in range(5):
        log_in(shop, email, "wrong password", status=429)
    clock.advance(timedelta(minutes=10))
    assert log_in(shop, email, PASSWORD, status=429).headers["Retry-After"] == str(5 * 60)


def test_each_further_lockout_of_an_email_lasts_twice_as_long(
    shop: TestApp, clock: FixedClock
) -> None:
    email = register(shop)
    waits = []
    for round_number in range(3):
        # A new address each round, so only the email's own history counts.
        peer = f"198.51.100.{round_number + 10}"
        fail(shop, email, peer=peer)
        wait = int(log_in(shop, email, PASSWORD, peer=peer, status=429).headers["Retry-After"])
        waits.append(wait)
        clock.advance(timedelta(seconds=wait))
    assert waits == [15 * 60, 30 * 60, 60 * 60]


def test_a_success_resets_the_emails_counter(shop: TestApp) -> None:
    email = register(shop)
    fail(shop, email, times=9, peer="198.51.100.20")
    log_in(shop, email, PASSWORD, peer="198.51.100.20", status=200)
    fail(shop, email, times=9, peer="198.51.100.21")
    log_in(shop, email, PASSWORD, peer="198.51.100.21", status=200)


def test_one_address_is_limited_across_different_emails_by_its_own_higher_limit(
    shop: TestApp,
) -> None:
    address = "198.51.100.30"
    email = register(shop)
    for _ in range(ADDRESS_LIMIT - 1):
        log_in(shop, unique_email("guess"), "wrong password", peer=address, status=400)
    log_in(shop, email, PASSWORD, peer=address, status=200)
    log_in(shop, unique_email("guess"), "wrong password", peer=address, status=400)
    assert log_in(shop, email, PASSWORD, peer=address, status=429).json == TOO_MANY
    log_in(shop, email, PASSWORD, peer="198.51.100.31", status=200)


def test_by_default_failures_against_many_emails_from_one_address_lock_no_one_else(
    clock: FixedClock,
) -> None:
    shop = TestApp(make_app(bootstrap(Settings.from_mapping(SETTINGS, {}), clock=clock), SETTINGS))
    email = register(shop)
    # What one careless script (or every shopper behind one proxy) does: many made-up emails.
    for _ in range(99):
        log_in(shop, unique_email("guess"), "wrong password", peer="198.51.100.90", status=400)
    log_in(shop, email, PASSWORD, peer="198.51.100.90", status=200)
    log_in(shop, unique_email("guess"), "wrong password", peer="198.51.100.90", status=400)
    log_in(shop, email, PASSWORD, peer="198.51.100.90", status=429)


def test_ipv6_clients_are_counted_per_64_bit_prefix(shop: TestApp) -> None:
    for number in range(ADDRESS_LIMIT):
        peer = f"2001:db8:0:1::{number + 1:x}"  # one subscriber's /64, a new address each time
        log_in(shop, unique_email("guess"), "wrong password", peer=peer, status=400)
    email = register(shop)
    log_in(shop, email, PASSWORD, peer="2001:db8:0:1:ffff::1", status=429)
    log_in(shop, email, PASSWORD, peer="2001:db8:0:2::1", status=200)


def test_failures_for_an_unknown_email_count_like_any_other(shop: TestApp) -> None:
    email = unique_email("nobody")
    for number in range(10):
        log_in(shop, email, "wrong password", peer=f"198.51.100.{40 + number}", status=400)
    assert log_in(shop, email, "wrong password", status=429).json == TOO_MANY


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(shop: TestApp) -> None:
    peer = "203.0.113.50"
    for number in range(ADDRESS_LIMIT):
        forged = f"198.51.100.{100 + number}"
        log_in(shop, unique_email(), "wrong", peer=peer, forwarded_for=forged, status=400)
    email = register(shop)
    log_in(shop, email, PASSWORD, peer=peer, forwarded_for="198.51.100.200", status=429)


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(shop: TestApp) -> None:
    for _ in range(ADDRESS_LIMIT):
        log_in(shop, unique_email(), "wrong", peer=PROXY, forwarded_for="198.51.100.60", status=400)
    email = register(shop)
    log_in(shop, email, PASSWORD, peer=PROXY, forwarded_for="198.51.100.60", status=429)
    log_in(shop, email, PASSWORD, peer=PROXY, forwarded_for="198.51.100.61", status=200)


def test_a_client_cannot_dodge_the_limit_by_forging_the_left_of_x_forwarded_for(
    shop: TestApp,
) -> None:
    for number in range(ADDRESS_LIMIT):
        chain = f"192.0.2.{number}, 198.51.100.70, 10.0.0.2"  # forged, client, inner proxy
        log_in(shop, unique_email(), "wrong", peer=PROXY, forwarded_for=chain, status=400)
    email = register(shop)
    chain = "192.0.2.99, 198.51.100.70, 192.168.1.1"
    log_in(shop, email, PASSWORD, peer=PROXY, forwarded_for=chain, status=429)


def test_a_request_with_only_trusted_hops_is_keyed_by_the_outermost_proxy(shop: TestApp) -> None:
    for _ in range(ADDRESS_LIMIT):
        log_in(shop, unique_email(), "wrong", peer=PROXY, forwarded_for="10.9.9.9", status=400)
    email = register(shop)
    log_in(shop, email, PASSWORD, peer="10.0.0.3", forwarded_for="10.9.9.9", status=429)
    log_in(shop, email, PASSWORD, peer=PROXY, status=200)


def test_trusted_proxies_that_are_not_addresses_stop_the_start() -> None:
    from framesell.settings import ConfigurationError

    with pytest.raises(ConfigurationError, match="trusted_proxies"):
        Settings.from_mapping({**SETTINGS, "framesell.trusted_proxies": "10.0.0.0/8 proxy"}, {})
