"""Sign-up, log-in, token refresh and the shopper's own account."""

from __future__ import annotations

from typing import Any

from cornice.validators import colander_body_validator
from pyramid.request import Request

from framesell.entrypoints.http.client_addresses import client_address
from framesell.entrypoints.http.errors import (
    DetailShape,
    Endpoint,
    FailureShape,
    validation_failed,
)
from framesell.entrypoints.http.openapi import responses
from framesell.entrypoints.http.response_schemas import (
    DetailJson,
    ErrorsJson,
    FailureJson,
    SignedUpJson,
    TokenJson,
    UserJson,
)
from framesell.entrypoints.http.schemas import LoginSchema, SignupSchema
from framesell.entrypoints.http.security import (
    PUBLIC,
    SHOPPER,
    authenticated_user,
    bearer_token,
)
from framesell.entrypoints.http.serializers import user_json

JSON_OR_FORM = ("application/json", "application/x-www-form-urlencoded")

login = Endpoint(
    name="login",
    path="/api/api-token-auth/",
    description="Log in with email and password; get a JWT.",
    error_handler=validation_failed,
    # The original's: never says which field was wrong, even of a refused body.
    error_shape=DetailShape(refused_body="authorization failure"),
)
signup = Endpoint(
    name="signup",
    path="/api/signup/",
    description="Create a shopper account.",
    error_handler=validation_failed,
    error_shape=FailureShape(),  # the original's
)
me = Endpoint(name="me", path="/api/me/", description="The calling shopper's account.")
refresh = Endpoint(
    name="token_refresh",
    path="/api/api-token-refresh/",
    description="Exchange a still-valid JWT for a fresh one.",
    error_handler=validation_failed,
)


@login.post(
    schema=LoginSchema(),
    validators=(colander_body_validator,),
    content_type=JSON_OR_FORM,
    permission=PUBLIC,
)
@responses({200: TokenJson, 400: DetailJson, 429: DetailJson, 503: DetailJson})
def log_in(request: Request) -> dict[str, Any]:
    """200 with a token, 400 "authorization failure" for any wrong pair, 429 while locked."""
    body = request.validated
    token = request.shop.users.log_in(
        body["username"], body["password"], client_address(request)
    )
    return {"token": token}


@signup.post(
    schema=SignupSchema(),
    validators=(colander_body_validator,),
    content_type=JSON_OR_FORM,
    permission=PUBLIC,
)
@responses({201: SignedUpJson, 400: FailureJson, 429: FailureJson, 503: FailureJson})
def sign_up(request: Request) -> dict[str, Any]:
    """201 ``{"success": true}``, or 400 with a message (blank field, bad email, taken email).

    429 with Retry-After once the client address has made its hourly allowance of accounts.
    """
    body = request.validated
    address = client_address(request)
    request.shop.signups.refuse_if_exceeded(address)
    request.shop.users.register(
        first_name=body["first_name"],
        last_name=body["last_name"],
        email=body["email"],
        password=body["password"],
    )
    request.shop.signups.count(address)
    request.response.status = 201
    return {"success": True}


@me.get(permission=SHOPPER)
@responses({200: UserJson, 503: ErrorsJson})
def show_me(request: Request) -> dict[str, Any]:
    """The caller's id, email and names."""
    return user_json(authenticated_user(request))


@refresh.post(permission=SHOPPER)
@responses({200: TokenJson, 503: ErrorsJson})
def refresh_token(request: Request) -> dict[str, Any]:
    """A new token for the holder of a still-valid one."""
    return {"token": request.shop.users.refresh(bearer_token(request))}
