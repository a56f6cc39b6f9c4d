"""The user service at its edges: reset tokens, session age, missing parts, unknown accounts.

Each test here guards a rule a mutant of ``application/users.py`` broke without any other
test failing (docs/testing.md, mutation testing).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from framesell.adapters.memory import (
    FakePasswordHasher,
    FixedClock,
    MemoryLoginThrottle,
    MemoryMailer,
    MemoryTokenService,
    MemoryUnitOfWorkFactory,
)
from framesell.application.mail import MailOutbox, ShopMail
from framesell.application.users import (
    ACCOUNT_GONE,
    MAX_RESET_TOKEN_LENGTH,
    SESSION_TOO_OLD,
    UserService,
    reset_token_hash,
)
from framesell.domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    InvalidResetToken,
    NotAuthenticated,
    TooManyAttempts,
    UserNotFound,
)
from framesell.domain.mail import PasswordReset

EMAIL = "ada@example.com"
OLD_PASSWORD = "first password"
NEW_PASSWORD = "second password"


def a_service(
    *,
    clock: FixedClock | None,
    mail: bool = True,
    throttle: bool = False,
    max_session_age: timedelta = timedelta(days=7),
) -> tuple[UserService, MemoryUnitOfWorkFactory, MemoryMailer]:
    """A user service on memory adapters; ``clock=None`` or ``mail=False`` leaves one out."""
    uow = MemoryUnitOfWorkFactory()
    mailer = MemoryMailer()
    tokens_clock = clock or FixedClock()
    service = UserService(
        uow,
        FakePasswordHasher(),
        MemoryTokenService(tokens_clock, timedelta(days=1)),
        clock=clock,
        throttle=MemoryLoginThrottle() if throttle else None,
        max_session_age=max_session_age,
        mail=MailOutbox(uow, mailer, tokens_clock, ShopMail()) if mail else None,
    )
    service.register(first_name="Ada", last_name="Lovelace", email=EMAIL, password=OLD_PASSWORD)
    return service, uow, mailer


def store_reset(uow: MemoryUnitOfWorkFactory, token: str, clock: FixedClock) -> None:
    """A usable reset for ``token``, as if it had been mailed (whatever its length)."""
    with uow() as tx:
        user = tx.users.get_by_email(EMAIL)
        assert user is not None and user.id is not None
        tx.password_resets.add(
            PasswordReset(
                None, user.id, reset_token_hash(token), clock.now(),
                clock.now() + timedelta(hours=1),
            )
        )
        tx.commit()


def test_a_token_of_the_longest_length_resets_and_one_character_more_is_refused() -> None:
    clock = FixedClock()
    service, uow, _ = a_service(clock=clock)
    longest, too_long = "a" * MAX_RESET_TOKEN_LENGTH, "b" * (MAX_RESET_TOKEN_LENGTH + 1)
    store_reset(uow, longest, clock)
    store_reset(uow, too_long, clock)  # stored, yet refused before any lookup
    with pytest.raises(InvalidResetToken):
        service.reset_password(too_long, NEW_PASSWORD)
    assert service.reset_password(longest, NEW_PASSWORD).email == EMAIL
    assert service.log_in(EMAIL, NEW_PASSWORD)


def test_an_empty_token_is_refused_even_if_its_hash_were_stored() -> None:
    clock = FixedClock()
    service, uow, _ = a_service(clock=clock)
    store_reset(uow, "", clock)
    with pytest.raises(InvalidResetToken):
        service.reset_password("", NEW_PASSWORD)
    assert service.log_in(EMAIL, OLD_PASSWORD)


def test_a_token_with_a_lone_surrogate_is_an_invalid_token_not_an_encoding_error() -> None:
    clock = FixedClock()
    service, uow, _ = a_service(clock=clock)
    token = "abc\ud800def"
    store_reset(uow, token, clock)  # its hash exists: the surrogate is hashed, not refused
    assert reset_token_hash(token) != reset_token_hash("abcdef")
    assert service.reset_password(token, NEW_PASSWORD).email == EMAIL


def test_a_password_reset_ends_the_emails_lockout_so_the_new_password_logs_in_at_once() -> None:
    clock = FixedClock()
    service, uow, _ = a_service(clock=clock, throttle=True)
    for _ in range(10):
        with pytest.raises(Exception):  # AuthenticationFailed, then TooManyAttempts
            service.log_in(EMAIL, "wrong password")
    with pytest.raises(TooManyAttempts):
        service.log_in(EMAIL, OLD_PASSWORD)
    store_reset(uow, "the-mailed-token", clock)
    service.reset_password("the-mailed-token", NEW_PASSWORD)
    assert service.log_in(EMAIL, NEW_PASSWORD)


def test_without_a_clock_reset_requests_do_nothing_and_reset_tokens_are_refused() -> None:
    service, uow, mailer = a_service(clock=None, mail=True)
    service.request_password_reset(EMAIL)
    with uow() as tx:
        assert tx.outbox.due(FixedClock().now() + timedelta(days=1), 10) == []
    store_reset(uow, "a-token", FixedClock())
    with pytest.raises(InvalidResetToken):
        service.reset_password("a-token", NEW_PASSWORD)
    assert service.log_in(EMAIL, OLD_PASSWORD)
    assert mailer.sent == []


def test_without_a_mailer_a_reset_request_stores_no_token() -> None:
    clock = FixedClock()
    service, uow, _ = a_service(clock=clock, mail=False)
    service.request_password_reset(EMAIL)
    with uow() as tx:
        user = tx.users.get_by_email(EMAIL)
        assert user is not None
        # Nothing was stored under any token: a stored reset would need a mail to be usable.
        assert tx.outbox.due(clock.now() + timedelta(days=1), 10) == []
    assert uow.store.tables.password_resets == {}


def test_a_session_refreshes_up_to_exactly_its_maximum_age_and_not_a_moment_later() -> None:
    clock = FixedClock()
    service, _, _ = a_service(clock=clock, max_session_age=timedelta(hours=2))
    token = service.log_in(EMAIL, OLD_PASSWORD)
    clock.advance(timedelta(hours=2))
    refreshed = service.refresh(token)
    clock.advance(timedelta(microseconds=1))
    with pytest.raises(NotAuthenticated) as refused:
        service.refresh(refreshed)
    assert str(refused.value) == SESSION_TOO_OLD


def test_without_a_clock_a_session_is_aged_from_its_tokens_issue_time() -> None:
    service, _, _ = a_service(clock=None, mail=False)
    token = service.log_in(EMAIL, OLD_PASSWORD)
    refreshed = service.refresh(token)
    assert refreshed != token and service.authenticate(refreshed).email == EMAIL


def test_a_token_of_an_account_that_is_gone_says_so() -> None:
    service, _, _ = a_service(clock=FixedClock())
    with pytest.raises(NotAuthenticated) as refused:
        service.account(10_000)
    assert str(refused.value) == ACCOUNT_GONE


def test_making_an_unknown_email_admin_is_user_not_found() -> None:
    service, _, _ = a_service(clock=FixedClock())
    with pytest.raises(UserNotFound):
        service.make_admin("nobody@example.com")
    assert service.make_admin(EMAIL.upper()).is_admin is True


def test_a_rehashed_password_still_logs_in_with_the_same_password() -> None:
    uow = MemoryUnitOfWorkFactory()
    clock = FixedClock()
    old = UserService(uow, FakePasswordHasher("1"), MemoryTokenService(clock, timedelta(days=1)))
    old.register(first_name="Ada", last_name="Lovelace", email=EMAIL, password=OLD_PASSWORD)
    new = UserService(uow, FakePasswordHasher("2"), MemoryTokenService(clock, timedelta(days=1)))
    assert new.log_in(EMAIL, OLD_PASSWORD)  # verified against the old hash, then rehashed
    with uow() as tx:
        user = tx.users.get_by_email(EMAIL)
    assert user is not None and user.password_hash.startswith("fake$2$")
    assert FakePasswordHasher("2").verify(user.password_hash, OLD_PASSWORD)
    assert new.log_in(EMAIL, OLD_PASSWORD)


def test_an_email_with_a_lone_surrogate_is_a_failed_login_not_an_encoding_error() -> None:
    service, _, _ = a_service(clock=FixedClock(), throttle=True)
    with pytest.raises(AuthenticationFailed):
        service.log_in("ada\ud800@example.com", OLD_PASSWORD, "192.0.2.1")


class BrokenHasher(FakePasswordHasher):
    """Verifies by raising while ``broken`` (as argon2 or storage trouble would)."""

    broken = False

    def verify(self, password_hash: str, password: str) -> bool:
        if self.broken:
            raise RuntimeError("the hasher is broken")
        return super().verify(password_hash, password)


def test_attempts_that_fail_for_another_reason_than_the_password_do_not_count() -> None:
    clock = FixedClock()
    hasher = BrokenHasher()
    service = UserService(
        MemoryUnitOfWorkFactory(), hasher, MemoryTokenService(clock, timedelta(days=1)),
        clock=clock, throttle=MemoryLoginThrottle(),
    )
    service.register(first_name="Ada", last_name="Lovelace", email=EMAIL, password=OLD_PASSWORD)
    hasher.broken = True
    for _ in range(15):  # more than the ten failures that lock an email
        with pytest.raises(RuntimeError):
            service.log_in(EMAIL, OLD_PASSWORD)
    hasher.broken = False
    assert service.log_in(EMAIL, OLD_PASSWORD)


@pytest.mark.parametrize(
    ("field", "changes", "message"),
    [
        ("first_name", {"first_name": "  "}, "first name may not be blank"),
        ("last_name", {"last_name": ""}, "last name may not be blank"),
        ("password", {"password": "short"}, "password must be at least 8 characters"),
        ("password", {"password": "x" * 1025}, "password must be at most 1024 characters"),
    ],
)
def test_a_refused_sign_up_names_the_field_and_the_rule(
    field: str, changes: dict[str, str], message: str
) -> None:
    service, _, _ = a_service(clock=FixedClock())
    form = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
            "password": NEW_PASSWORD, **changes}
    with pytest.raises(InvalidInput) as refused:
        service.register(**form)
    assert (refused.value.field, str(refused.value)) == (field, message)


def test_a_throttle_without_a_clock_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match=r"^a login throttle needs a clock$"):
        UserService(
            MemoryUnitOfWorkFactory(), FakePasswordHasher(),
            MemoryTokenService(FixedClock(), timedelta(days=1)), throttle=MemoryLoginThrottle(),
        )


def test_by_default_a_hundred_failures_from_one_address_lock_it_for_every_email() -> None:
    service, _, _ = a_service(clock=FixedClock(), throttle=True)
    address = "198.51.100.7"
    for n in range(99):  # a different email each time, so no email's own limit is reached
        with pytest.raises(AuthenticationFailed):
            service.log_in(f"guess-{n}@example.com", "wrong password", address)
    assert service.log_in(EMAIL, OLD_PASSWORD, address)  # 99 failures: still open
    with pytest.raises(AuthenticationFailed):
        service.log_in("guess-99@example.com", "wrong password", address)
    with pytest.raises(TooManyAttempts):
        service.log_in(EMAIL, OLD_PASSWORD, address)  # the hundredth locked the address
    assert service.log_in(EMAIL, OLD_PASSWORD, "198.51.100.8")
