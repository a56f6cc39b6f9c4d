"""Who is calling and what they may do: the JWT is the identity, views declare permissions.

Every view declares ``permission=`` once (``PUBLIC``, ``SHOPPER`` or ``ADMIN``); Pyramid asks
``JwtSecurityPolicy`` before calling it, and the OpenAPI document reads the same declaration.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED, Allowed, Denied

from framesell.application.users import UserService
from framesell.domain.errors import NotAuthenticated, PermissionDenied
from framesell.domain.models import User

# The permissions a view may declare.
PUBLIC = NO_PERMISSION_REQUIRED  # anyone, no token read
SHOPPER = "shopper"  # a valid token of an existing account
ADMIN = "admin"  # a valid token of an admin's account

SCHEMES = {"jwt", "bearer"}
# The original shop's (djangorestframework-jwt) messages, kept for its clients.
NOT_PROVIDED = "Authentication credentials were not provided."
NO_CREDENTIALS = "Invalid Authorization header. No credentials provided."
HAS_SPACES = "Invalid Authorization header. Credentials string should not contain spaces."
# Where the authenticated user's id waits for the request log (tweens.request_tween_factory).
USER_ID_ENVIRON_KEY = "framesell.user_id"
# The authenticated User, once looked up for this request.
USER_ENVIRON_KEY = "framesell.user"
# The account id the request's token names, or None and why not: verified once per request.
_IDENTITY_KEY = "framesell.identity"
_REFUSAL_KEY = "framesell.identity_refused"


def bearer_token(request: Request) -> str:
    """Return the token of a ``JWT`` or ``Bearer`` Authorization header, or raise 403's reason."""
    return bearer_token_in(request.headers.get("Authorization", ""))


def bearer_token_in(header: str) -> str:
    """The token of an Authorization header's value (``JWT …`` or ``Bearer …``), or raise
    403's reason; ``bearer_token`` for a request, this for a WSGI environ's value."""
    parts = header.split()
    if not parts or parts[0].lower() not in SCHEMES:
        raise NotAuthenticated(NOT_PROVIDED)
    if len(parts) == 1:
        raise NotAuthenticated(NO_CREDENTIALS)
    if len(parts) > 2:
        raise NotAuthenticated(HAS_SPACES)
    return str(parts[1])


def authenticated_user(request: Request) -> User:
    """The user the request's token belongs to (raises NotAuthenticated → 403).

    Looked up once per request: a validator and its view both ask (this request only; a
    failure is not remembered and raises again).
    """
    user: User | None = request.environ.get(USER_ENVIRON_KEY)
    if user is None:
        user = request.shop.users.account(authenticated_user_id(request))
        request.environ[USER_ENVIRON_KEY] = user
        remember_user(request, user)
    return user


def authenticated_user_id(request: Request) -> int:
    """The account id the request's token names (NotAuthenticated → 403), not yet looked up.

    The caller must look the account up (and refuse a vanished one) before answering, and
    then record it with ``remember_user_id``. The token is verified once per request (the
    security policy asks first); a refusal is remembered and raised again.
    """
    environ = request.environ
    if _IDENTITY_KEY not in environ:
        try:
            environ[_IDENTITY_KEY] = verified_user_id(
                request.shop.users, request.headers.get("Authorization", "")
            )
        except NotAuthenticated as error:
            environ[_IDENTITY_KEY] = None
            environ[_REFUSAL_KEY] = error.message
    user_id: int | None = environ[_IDENTITY_KEY]
    if user_id is None:
        raise NotAuthenticated(environ[_REFUSAL_KEY])
    return user_id


def verified_user_id(users: UserService, authorization: str) -> int:
    """The account id the token of an Authorization header's value names, verified but not
    looked up (NotAuthenticated → 403): what the security policy's identity is made of.

    For ``authenticated_user_id`` and for the fast lane (``fastlane.py``), which answers
    before a request object exists; ``SHOPPER`` asks for nothing more.
    """
    return users.token_user_id(bearer_token_in(authorization))


def remember_user(request: Request, user: User) -> None:
    """Note the authenticated user's id for the request log."""
    remember_user_id(request, user.id)


def remember_user_id(request: Request, user_id: int | None) -> None:
    """Note the authenticated user's id for the request log (the account exists)."""
    request.environ[USER_ID_ENVIRON_KEY] = user_id


def admin_user(request: Request) -> User:
    """The calling user if an admin; PermissionDenied → 403 otherwise."""
    user = authenticated_user(request)
    if not user.is_admin:
        raise PermissionDenied()
    return user



class JwtSecurityPolicy:
    """Pyramid's security policy: the identity is the account id a valid token names.

    ``identity`` only verifies the token (no database read); ``ADMIN`` looks the account up.
    A refusal's message is the 403's ``detail`` (the original shop's texts).
    """

    def identity(self, request: Request) -> int | None:
        """The account id of a valid token, or None (the reason kept for the 403)."""
        try:
            return authenticated_user_id(request)
        except NotAuthenticated:
            return None

    def authenticated_userid(self, request: Request) -> int | None:
        """The same account id."""
        return self.identity(request)

    def permits(self, request: Request, context: Any, permission: str) -> Allowed | Denied:
        """``SHOPPER``: any valid token; ``ADMIN``: an admin's; anything else is refused."""
        if self.identity(request) is None:
            return Denied("%s", request.environ.get(_REFUSAL_KEY, NOT_PROVIDED))
        if permission == SHOPPER:
            return Allowed("a valid token")
        if permission == ADMIN:
            try:
                admin_user(request)
            except (NotAuthenticated, PermissionDenied) as error:
                return Denied("%s", error.message)
            return Allowed("an admin's token")
        return Denied("%s", f"unknown permission {permission!r}")

    def remember(self, request: Request, userid: Any, **kw: Any) -> list[tuple[str, str]]:
        """Tokens are issued by POST /api/api-token-auth/, not by headers."""
        return []

    def forget(self, request: Request, **kw: Any) -> list[tuple[str, str]]:
        """Nothing to forget: a token simply stops being sent."""
        return []
