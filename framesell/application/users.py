"""The user service: sign-up, log-in, tokens and profiles."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from framesell.application.mail import MailOutbox
from framesell.application.ports import (
    Clock,
    LoginThrottle,
    PasswordHasher,
    ThrottleClaim,
    TokenService,
    UnitOfWorkFactory,
)
from framesell.application.transactions import retrying
from framesell.domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    InvalidResetToken,
    NotAuthenticated,
    TooManyAttempts,
    UserNotFound,
)
from framesell.domain.mail import PasswordReset
from framesell.domain.models import User, normalize_email, validate_email, validate_name
from framesell.domain.throttling import ThrottlePolicy, address_bucket

MIN_PASSWORD_LENGTH = 8
# The 403's reason when a valid token names an account that no longer exists.
ACCOUNT_GONE = "user not found"
MAX_PASSWORD_LENGTH = 1024
# How long a password-reset link works, and its token's entropy (bytes).
RESET_VALID_FOR = timedelta(hours=1)
RESET_TOKEN_BYTES = 32
MAX_RESET_TOKEN_LENGTH = 128
# The 403's reason when a token is refreshed long after its password was given.
SESSION_TOO_OLD = "Session has expired; log in again."
DEFAULT_MAX_SESSION_AGE = timedelta(days=7)


def reset_token_hash(token: str) -> str:
    """What is stored of a reset token: its SHA-256, so a copy of the database opens nothing."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def validate_password(password: str) -> str:
    """Return the password or raise InvalidInput when it breaks the length rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must be at most {MAX_PASSWORD_LENGTH} characters", field="password"
        )
    return password


def throttle_keys(
    email: str, client_address: str | None, *, scope: str = ""
) -> tuple[str, ...]:
    """The LoginThrottle keys of a login attempt: its email first, then its client address
    (an IPv6 address by its /64).

    Digests rather than the values, so the throttle stores no emails or addresses and every
    key has the same short length however long the submitted username is. ``scope`` keeps
    another use of the throttle (password-reset requests) on counters of its own.
    """
    kinds = [(f"{scope}email", email)]
    if client_address:
        kinds.append((f"{scope}address", address_bucket(client_address)))
    return tuple(
        hashlib.sha256(f"{kind}:{value}".encode("utf-8", "surrogatepass")).hexdigest()
        for kind, value in kinds
    )


class UserService:
    """Registers shoppers, logs them in and tells who holds a token."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        tokens: TokenService,
        *,
        throttle: LoginThrottle | None = None,
        clock: Clock | None = None,
        throttle_policy: ThrottlePolicy | None = None,
        address_policy: ThrottlePolicy | None = None,
        max_session_age: timedelta = DEFAULT_MAX_SESSION_AGE,
        mail: MailOutbox | None = None,
        reset_link: Callable[[str], str] = lambda token: f"#/reset-password?token={token}",
    ) -> None:
        if throttle is not None and clock is None:
            raise ValueError("a login throttle needs a clock")
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._clock = clock
        self._policy = throttle_policy or ThrottlePolicy()
        # A client address is many shoppers behind one NAT: a much higher limit of its own.
        self._address_policy = address_policy or ThrottlePolicy(max_failures=100)
        self._memory = max(self._policy.memory, self._address_policy.memory)
        self._max_session_age = max_session_age
        self._mail = mail
        self._reset_link = reset_link
        # Hashed once, so that logging in as nobody costs as much as a wrong password.
        self._dummy_hash = hasher.hash("framesell-no-such-user")

    def register(
        self, *, first_name: str, last_name: str, email: str, password: str, is_admin: bool = False
    ) -> User:
        """Create an account; raise InvalidInput or EmailTaken."""
        user = User(
            id=None,
            email=validate_email(email),
            first_name=validate_name(first_name, "first_name"),
            last_name=validate_name(last_name, "last_name"),
            password_hash=self._hasher.hash(validate_password(password)),
            is_admin=is_admin,
        )
        for transaction in retrying(self._uow):
            with transaction as uow:
                stored = uow.users.add(user)
                uow.commit()
        return stored

    def log_in(self, email: str, password: str, client_address: str | None = None) -> str:
        """Return an access token; raise AuthenticationFailed for any wrong pair.

        Raises TooManyAttempts, before looking at the password, while the email or the
        client address is locked out by repeated failures. The attempt is counted as a
        failure before its password is checked (and forgotten if it was right), so
        guesses sent in parallel get no more tries than guesses sent one by one.
        """
        normalized = normalize_email(email)
        keys = throttle_keys(normalized, client_address)
        claim = self._claim(keys)
        try:
            user = self._check_password(normalized, password)
        except AuthenticationFailed:
            raise
        except BaseException:
            self._release(claim)  # not a wrong password: the attempt does not count
            raise
        # The attempt is no failure, and the email's counter starts again (the address keeps
        # its own): one write for both.
        self._release(claim, forget=keys[0])
        return self._tokens.issue(user)

    def _check_password(self, normalized_email: str, password: str) -> User:
        with self._uow() as uow:
            user = uow.users.get_by_email(normalized_email)
        if user is None or len(password) > MAX_PASSWORD_LENGTH:
            self._hasher.verify(self._dummy_hash, password[:MAX_PASSWORD_LENGTH])
            raise AuthenticationFailed()
        if not self._hasher.verify(user.password_hash, password):
            raise AuthenticationFailed()
        if self._hasher.needs_rehash(user.password_hash):
            for transaction in retrying(self._uow):
                with transaction as uow:
                    uow.users.update_password_hash(user.id or 0, self._hasher.hash(password))
                    uow.commit()
        return user

    def _claim(self, keys: tuple[str, ...]) -> ThrottleClaim | None:
        """Count this attempt as a failure of its email and address, or raise while locked."""
        if self._throttle is None or self._clock is None:
            return None
        now = self._clock.now()
        # The email's key first, then the address's (throttle_keys' order).
        policies = (self._policy, self._address_policy)

        def wait(failures: dict[str, list[datetime]]) -> int:
            return max(
                policy.retry_after_seconds(failures[key], now)
                for key, policy in zip(keys, policies, strict=False)
            )

        claim = self._throttle.claim(keys, now, forget_before=now - self._memory, wait=wait)
        if claim.retry_after_seconds > 0:
            raise TooManyAttempts(claim.retry_after_seconds)
        return claim

    def _release(self, claim: ThrottleClaim | None, *, forget: str | None = None) -> None:
        if claim is not None and self._throttle is not None:
            self._throttle.release(claim, forget=forget)

    def request_password_reset(self, email: str, client_address: str | None = None) -> None:
        """Mail a one-time link to choose a new password, if the account exists.

        Says nothing either way (the HTTP answer is 202 for any email), and takes about the
        same time: the mail is queued, never sent while the caller waits. Throttled like
        log-in, per email and per client address (TooManyAttempts), on counters of its own.
        An email that could not be an account's (sign-up's rule: its form, its length, no
        control or bidi characters) is InvalidInput, whoever has an account.
        """
        normalized = validate_email(email)
        keys = throttle_keys(normalized, client_address, scope="reset-")
        self._claim(keys)  # every request counts, found or not; never released
        token = secrets.token_urlsafe(RESET_TOKEN_BYTES)
        now = self._clock.now() if self._clock is not None else None
        for transaction in retrying(self._uow):
            with transaction as uow:
                user = uow.users.get_by_email(normalized)
                if user is None or user.id is None or now is None or self._mail is None:
                    return
                uow.password_resets.add(
                    PasswordReset(
                        None, user.id, reset_token_hash(token), now, now + RESET_VALID_FOR
                    )
                )
                mail = self._mail.mail.password_reset(
                    user, self._reset_link(token), RESET_VALID_FOR
                )
                self._mail.queue(uow, f"password-reset-{reset_token_hash(token)}", mail)
                uow.commit()
        assert self._mail is not None  # without one the loop returned
        self._mail.deliver_in_background()

    def reset_password(self, token: str, password: str) -> User:
        """Set a new password with a reset token: once, within the hour (InvalidResetToken)."""
        new_hash = self._hasher.hash(validate_password(password))
        if not token or len(token) > MAX_RESET_TOKEN_LENGTH:
            raise InvalidResetToken()
        now = self._clock.now() if self._clock is not None else None
        for transaction in retrying(self._uow):
            with transaction as uow:
                reset = uow.password_resets.get_by_hash(reset_token_hash(token))
                if reset is None or reset.id is None or now is None or not reset.usable_at(now):
                    raise InvalidResetToken()
                if not uow.password_resets.use(reset.id, now):
                    raise InvalidResetToken()  # used meanwhile by a racing request
                uow.users.update_password_hash(reset.user_id, new_hash)
                user = uow.users.get(reset.user_id)
                uow.commit()
        if user is None:
            raise InvalidResetToken()
        if self._throttle is not None:
            self._throttle.reset(throttle_keys(user.email, None)[0])  # the email may log in now
        return user

    def authenticate(self, token: str) -> User:
        """Return the user a token belongs to; raise NotAuthenticated otherwise."""
        return self.account(self._tokens.verify(token).user_id)

    def account(self, user_id: int) -> User:
        """The account a verified token named; NotAuthenticated if it no longer exists."""
        with self._uow() as uow:
            user = uow.users.get(user_id)
        if user is None:
            raise NotAuthenticated(ACCOUNT_GONE)
        return user

    def token_user_id(self, token: str) -> int:
        """The account id a valid token names, without looking the account up.

        For a caller that looks the account up itself in the transaction it opens anyway
        (``OrderService.list_orders_of_account``); raises NotAuthenticated like
        ``authenticate``.
        """
        return self._tokens.verify(token).user_id

    def refresh(self, token: str) -> str:
        """Return a fresh token for the holder of a still-valid one, keeping its auth_time.

        Raises NotAuthenticated (SESSION_TOO_OLD) once the password was last given more than
        the maximum session age ago: a stolen token cannot be refreshed forever.
        """
        claims = self._tokens.verify(token)
        now = self._clock.now() if self._clock is not None else claims.issued_at
        if now - claims.authenticated_at > self._max_session_age:
            raise NotAuthenticated(SESSION_TOO_OLD)
        user = self.account(claims.user_id)
        return self._tokens.issue(user, auth_time=claims.authenticated_at)

    def profile(self, user_id: int) -> User:
        """Return one user's account; raise UserNotFound."""
        with self._uow() as uow:
            user = uow.users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    def find_by_email(self, email: str) -> User | None:
        """Return the account with this email, or None."""
        with self._uow() as uow:
            return uow.users.get_by_email(normalize_email(email))

    def make_admin(self, email: str) -> User:
        """Grant admin rights to an existing account; raise UserNotFound."""
        for transaction in retrying(self._uow):
            with transaction as uow:
                user = uow.users.get_by_email(normalize_email(email))
                if user is None or user.id is None:
                    raise UserNotFound()
                user_id = user.id
                uow.users.set_admin(user_id, True)
                uow.commit()
        return self.profile(user_id)
