"""The throttle policy and the user service's log-in with a LoginThrottle, in memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from framesell.adapters.memory import (
    FakePasswordHasher,
    FixedClock,
    MemoryLoginThrottle,
    MemoryTokenService,
    MemoryUnitOfWorkFactory,
)
from framesell.application.users import UserService, throttle_keys
from framesell.domain.errors import AuthenticationFailed, TooManyAttempts
from framesell.domain.throttling import RateLimit, ThrottlePolicy
from tests.contract.helpers import T0
from tests.contract.racing import race

POLICY = ThrottlePolicy()
PASSWORD = "correct horse battery"


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def test_nine_failures_in_the_window_do_not_lock() -> None:
    failures = [T0 + seconds(i) for i in range(9)]
    assert POLICY.retry_after_seconds(failures, T0 + seconds(10)) == 0


def test_the_tenth_failure_in_fifteen_minutes_locks_for_fifteen_minutes() -> None:
    failures = [T0 + seconds(i) for i in range(10)]
    assert POLICY.locked_until(failures) == T0 + seconds(9) + timedelta(minutes=15)
    assert POLICY.retry_after_seconds(failures, T0 + seconds(9)) == 15 * 60


def test_ten_failures_spread_over_more_than_the_window_do_not_lock() -> None:
    failures = [T0 + timedelta(minutes=2 * i) for i in range(10)]
    assert POLICY.locked_until(failures) is None


def test_every_further_lockout_doubles_up_to_the_cap() -> None:
    failures: list = []
    lockouts = []
    now = T0
    for _ in range(4):
        failures += [now + seconds(i) for i in range(10)]
        until = POLICY.locked_until(failures)
        assert until is not None
        lockouts.append(until - failures[-1])
        now = until
    assert lockouts == [
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


def test_a_failure_recorded_during_a_lockout_extends_it() -> None:
    failures = [T0 + seconds(i) for i in range(10)]
    racing = T0 + seconds(10)  # another process checked before the lock and failed after it
    assert POLICY.locked_until([*failures, racing]) == racing + timedelta(minutes=30)


def test_retry_after_is_a_whole_number_of_seconds_rounded_up() -> None:
    failures = [T0 + seconds(i) for i in range(10)]
    until = T0 + seconds(9) + timedelta(minutes=15)
    assert POLICY.retry_after_seconds(failures, until - timedelta(milliseconds=1)) == 1
    assert POLICY.retry_after_seconds(failures, until) == 0


def test_an_unworkable_policy_is_refused() -> None:
    with pytest.raises(ValueError):
        ThrottlePolicy(max_failures=0)
    with pytest.raises(ValueError):
        ThrottlePolicy(window=timedelta(minutes=15), max_lockout=timedelta(minutes=5))


class CountingHasher(FakePasswordHasher):
    """A FakePasswordHasher that remembers which hashes it was asked to verify against."""

    def __init__(self) -> None:
        super().__init__()
        self.verified: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return super().verify(password_hash, password)


def users_with(hasher: FakePasswordHasher, clock: FixedClock) -> UserService:
    return UserService(
        MemoryUnitOfWorkFactory(),
        hasher,
        MemoryTokenService(clock, timedelta(hours=1)),
        throttle=MemoryLoginThrottle(),
        clock=clock,
    )


def test_logging_in_as_an_unknown_email_still_verifies_a_password_hash() -> None:
    hasher = CountingHasher()
    users = users_with(hasher, FixedClock())
    with pytest.raises(AuthenticationFailed):
        users.log_in("nobody@example.com", PASSWORD)
    assert len(hasher.verified) == 1
    assert hasher.verified[0].startswith("fake$")


def test_an_over_long_password_for_a_known_email_verifies_the_dummy_hash() -> None:
    hasher = CountingHasher()
    users = users_with(hasher, FixedClock())
    users.register(first_name="A", last_name="B", email="a@example.com", password=PASSWORD)
    with pytest.raises(AuthenticationFailed):
        users.log_in("a@example.com", "x" * 5000)
    assert len(hasher.verified) == 1


def test_a_throttle_without_a_clock_is_a_wiring_mistake() -> None:
    with pytest.raises(ValueError):
        UserService(
            MemoryUnitOfWorkFactory(),
            FakePasswordHasher(),
            MemoryTokenService(FixedClock(), timedelta(hours=1)),
            throttle=MemoryLoginThrottle(),
        )


def test_log_in_refuses_a_locked_email_before_checking_the_password() -> None:
    hasher = CountingHasher()
    clock = FixedClock()
    users = users_with(hasher, clock)
    users.register(first_name="A", last_name="B", email="a@example.com", password=PASSWORD)
    for _ in range(10):
        with pytest.raises(AuthenticationFailed):
            users.log_in("a@example.com", "wrong password", "192.0.2.1")
    checked = len(hasher.verified)
    with pytest.raises(TooManyAttempts) as refused:
        users.log_in("a@example.com", PASSWORD, "192.0.2.2")
    assert refused.value.retry_after_seconds == 15 * 60
    assert len(hasher.verified) == checked


def test_throttle_keys_are_fixed_length_digests_of_the_email_then_the_address() -> None:
    keys = throttle_keys("a@example.com", "192.0.2.1")
    assert len(keys) == 2
    assert all(len(key) == 64 for key in keys)
    assert "a@example.com" not in "".join(keys)
    assert throttle_keys("a@example.com", None) == keys[:1]


class SlowHasher(CountingHasher):
    """Verifies slowly, as argon2 does, so that guesses sent together overlap."""

    def verify(self, password_hash: str, password: str) -> bool:
        time.sleep(0.05)
        return super().verify(password_hash, password)


def test_parallel_wrong_guesses_against_one_email_get_no_more_tries_than_serial_ones() -> None:
    hasher = SlowHasher()
    users = users_with(hasher, FixedClock())
    users.register(first_name="A", last_name="B", email="a@example.com", password=PASSWORD)
    hasher.verified.clear()

    def guess(start: Callable[[], None]) -> str:
        start()
        try:
            users.log_in("a@example.com", "wrong password", "192.0.2.1")
        except TooManyAttempts:
            return "refused"
        except AuthenticationFailed:
            return "wrong"
        return "in"

    answers = race(30, guess)
    assert sorted(answers) == ["refused"] * 20 + ["wrong"] * 10
    assert len(hasher.verified) == 10


def test_a_right_password_does_not_stay_counted_against_its_address() -> None:
    clock = FixedClock()
    users = users_with(FakePasswordHasher(), clock)
    users.register(first_name="A", last_name="B", email="a@example.com", password=PASSWORD)
    for _ in range(100):
        users.log_in("a@example.com", PASSWORD, "192.0.2.7")
    users.log_in("a@example.com", PASSWORD, "192.0.2.7")


def test_an_ipv6_address_is_counted_by_its_64_bit_prefix() -> None:
    assert throttle_keys("a@example.com", "2001:db8:1:2:3:4:5:6") == throttle_keys(
        "a@example.com", "2001:db8:1:2::9"
    )
    assert throttle_keys("a@example.com", "2001:db8:1:2::9") != throttle_keys(
        "a@example.com", "2001:db8:1:3::9"
    )
    assert throttle_keys("a@example.com", "::ffff:192.0.2.1") == throttle_keys(
        "a@example.com", "192.0.2.1"
    )


def test_a_rate_limit_allows_its_count_in_the_window_then_waits_for_the_oldest() -> None:
    limit = RateLimit(3, timedelta(hours=1))
    events = [T0, T0 + seconds(60), T0 + seconds(120)]
    assert limit.retry_after_seconds(events[:2], T0 + seconds(130)) == 0
    assert limit.retry_after_seconds(events, T0 + seconds(130)) == 3600 - 130
    assert limit.retry_after_seconds(events, T0 + seconds(3600)) == 0
    with pytest.raises(ValueError):
        RateLimit(0, timedelta(hours=1))
