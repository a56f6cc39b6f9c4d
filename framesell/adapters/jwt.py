"""JSON Web Tokens (PyJWT, HS256 pinned) as the TokenService."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from framesell.application.ports import Clock, TokenClaims
from framesell.domain.errors import NotAuthenticated
from framesell.domain.models import User

# The original shop's (djangorestframework-jwt) messages, so its clients read the same text.
EXPIRED = "Signature has expired."
UNDECODABLE = "Error decoding signature."
MIN_SECRET_BYTES = 32
# Tokens whose signature and claims were checked, kept per process: a shopper's token is
# sent with every request for the hour it lives, and checking it again is a third of an
# order list's own time. About 0.5 KB each; emptied when full.
MAX_VERIFIED_TOKENS = 4096


class JwtTokenService:
    """Signs ``sub``, ``email``, ``iat``, ``exp`` and ``auth_time`` with one secret.

    Accepts only its own algorithm. ``auth_time`` (OpenID Connect's claim: when the user
    authenticated) is optional when reading, for tokens issued before it was added.
    """

    def __init__(
        self, secret: str, clock: Clock, lifetime: timedelta, algorithm: str = "HS256"
    ) -> None:
        if not secret:
            raise ValueError("a JWT secret is required")
        self._secret = secret
        self._clock = clock
        self._lifetime = lifetime
        self._algorithm = algorithm
        # The exact token text → what it says. Only tokens this secret signed get in, and
        # the same text always says the same, so a hit skips nothing but the work; expiry
        # is still checked against the clock on every call.
        self._verified: dict[str, TokenClaims] = {}

    def issue(self, user: User, *, auth_time: datetime | None = None) -> str:
        """Return a signed token for this user, valid for the configured lifetime."""
        now = self._clock.now()
        payload = {
            "sub": str(user.id),
            "email": user.email,
            "iat": int(now.timestamp()),
            "exp": int((now + self._lifetime).timestamp()),
            "auth_time": int((auth_time or now).timestamp()),
        }
        return jwt.encode(payload, self._secret, algorithm=self._algorithm)

    def verify(self, token: str) -> TokenClaims:
        """Return the claims of a token signed by us with our algorithm and not yet expired."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._verified) >= MAX_VERIFIED_TOKENS:
                self._verified.clear()  # bounded; the tokens in use come back one check each
            self._verified[token] = claims
        # Expiry is checked against our Clock (not PyJWT's), so tests can move time.
        if self._clock.now() >= claims.expires_at:
            raise NotAuthenticated(EXPIRED)
        return claims

    def _decode(self, token: str) -> TokenClaims:
        """The claims of a token signed by us with our algorithm (expired or not)."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],  # pinned: "none" or another alg is forged
                options={"require": ["sub", "email", "iat", "exp"], "verify_exp": False},
            )
        except jwt.InvalidTokenError:
            raise NotAuthenticated(UNDECODABLE) from None
        try:
            user_id = int(payload["sub"])
            issued_at = datetime.fromtimestamp(int(payload["iat"]), UTC)
            expires_at = datetime.fromtimestamp(int(payload["exp"]), UTC)
            email = str(payload["email"])
            raw_auth_time = payload.get("auth_time")
            auth_time = (
                None
                if raw_auth_time is None
                else datetime.fromtimestamp(_whole_number(raw_auth_time), UTC)
            )
        except (TypeError, ValueError, OverflowError, OSError):
            raise NotAuthenticated(UNDECODABLE) from None
        return TokenClaims(user_id, email, issued_at, expires_at, auth_time)


def _whole_number(value: object) -> int:
    """An integer claim; a boolean, text or fraction is not one (ValueError)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not an integer")
    return value
