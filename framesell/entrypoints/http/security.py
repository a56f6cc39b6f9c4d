"""Who is calling: the ``Authorization: JWT|Bearer <token>`` header to a User."""

from __future__ import annotations

from pyramid.request import Request

from framesell.domain.errors import NotAuthenticated, PermissionDenied
from framesell.domain.models import User

SCHEMES = {"jwt", "bearer"}
# The original shop's (djangorestframework-jwt) messages, kept for its clients.
NOT_PROVIDED = "Authentication credentials were not provided."
NO_CREDENTIALS = "Invalid Authorization header. No credentials provided."
HAS_SPACES = "Invalid Authorization header. Credentials string should not contain spaces."
# Where the authenticated user's id waits for the request log (tweens.request_log_tween).
USER_ID_ENVIRON_KEY = "framesell.user_id"
# The authenticated User, once looked up for this request.
USER_ENVIRON_KEY = "framesell.user"


def bearer_token(request: Request) -> str:
    """Return the token of a ``JWT`` or ``Bearer`` Authorization header, or raise 403's reason."""
    header = request.headers.get("Authorization", "")
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
        user = request.services.users.authenticate(bearer_token(request))
        request.environ[USER_ENVIRON_KEY] = user
        remember_user(request, user)
    return user


def authenticated_user_id(request: Request) -> int:
    """The account id the request's token names (NotAuthenticated → 403), not yet looked up.

    The caller must look the account up (and refuse a vanished one) before answering, and
    then record it with ``remember_user_id``.
    """
    user_id: int = request.services.users.token_user_id(bearer_token(request))
    return user_id


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
