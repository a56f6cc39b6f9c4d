"""The JWT token service keeps tokens it checked, and still refuses what it must."""

from __future__ import annotations

from datetime import timedelta

import pytest

from framesell.adapters import jwt as jwt_tokens
from framesell.adapters.jwt import EXPIRED, UNDECODABLE, JwtTokenService
from framesell.adapters.memory import FixedClock
from framesell.domain.errors import NotAuthenticated
from framesell.domain.models import User

SECRET = "a-test-secret-long-enough-for-hs256-0123456789"


def _user(user_id: int) -> User:
    return User(
        id=user_id,
        email=f"shopper{user_id}@example.com",
        first_name="A",
        last_name="B",
        password_hash="not-used-here",
    )


def _service(clock: FixedClock, secret: str = SECRET) -> JwtTokenService:
    return JwtTokenService(secret, clock, lifetime=timedelta(hours=1))


def test_a_token_checked_before_is_refused_once_it_has_expired() -> None:
    clock = FixedClock()
    tokens = _service(clock)
    token = tokens.issue(_user(7))
    assert tokens.verify(token).user_id == 7  # checked and kept
    clock.advance(timedelta(minutes=59, seconds=59))
    assert tokens.verify(token).user_id == 7
    clock.advance(timedelta(seconds=1))
    with pytest.raises(NotAuthenticated) as refused:
        tokens.verify(token)
    assert refused.value.message == EXPIRED


def test_a_kept_token_says_what_a_fresh_check_says() -> None:
    clock = FixedClock()
    token = _service(clock).issue(_user(3))
    tokens = _service(clock)
    first, again = tokens.verify(token), tokens.verify(token)
    assert again == first == _service(clock).verify(token)
    assert (again.user_id, again.email) == (3, "shopper3@example.com")


def test_a_token_altered_after_its_genuine_twin_was_kept_is_refused() -> None:
    clock = FixedClock()
    tokens = _service(clock)
    token = tokens.issue(_user(5))
    tokens.verify(token)
    header, payload, signature = token.split(".")
    forged_payload = _service(clock).issue(_user(6)).split(".")[1]
    for altered in (
        f"{header}.{forged_payload}.{signature}",  # another shopper under this signature
        f"{header}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}",
        token + "x",
    ):
        with pytest.raises(NotAuthenticated) as refused:
            tokens.verify(altered)
        assert refused.value.message == UNDECODABLE


def test_a_token_of_another_secret_is_refused_by_a_service_that_kept_its_own() -> None:
    clock = FixedClock()
    ours, theirs = _service(clock), _service(clock, SECRET[::-1])
    ours.verify(ours.issue(_user(1)))
    with pytest.raises(NotAuthenticated):
        ours.verify(theirs.issue(_user(1)))


def test_the_kept_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jwt_tokens, "MAX_VERIFIED_TOKENS", 5)
    clock = FixedClock()
    tokens = _service(clock)
    issued = [tokens.issue(_user(number)) for number in range(1, 13)]
    for number, token in enumerate(issued, start=1):
        assert tokens.verify(token).user_id == number
        assert len(tokens._verified) <= 5
    # Whatever was dropped is checked again, and still names the right shopper.
    assert [tokens.verify(token).user_id for token in issued] == list(range(1, 13))
