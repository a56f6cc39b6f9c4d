"""A forgotten password: a one-time link by mail, then a new password."""

from __future__ import annotations

from typing import Any

from cornice.validators import colander_body_validator
from pyramid.request import Request

from framesell.entrypoints.http.client_addresses import client_address
from framesell.entrypoints.http.errors import Endpoint, validation_failed
from framesell.entrypoints.http.openapi import responses
from framesell.entrypoints.http.response_schemas import (
    ErrorsJson,
    PasswordChangedJson,
    ResetRequestedJson,
)
from framesell.entrypoints.http.schemas import NewPasswordSchema, PasswordResetSchema
from framesell.entrypoints.http.security import PUBLIC

RESET_REQUESTED = (
    "If an account has this email, a link to choose a new password is on its way;"
    " it works once, within an hour."
)

password_reset = Endpoint(
    name="password_reset",
    path="/api/password-reset/",
    description="Ask for a link to choose a new password.",
    error_handler=validation_failed,
)
password_reset_confirm = Endpoint(
    name="password_reset_confirm",
    path="/api/password-reset/confirm/",
    description="Choose a new password with the link's token.",
    error_handler=validation_failed,
)


@password_reset.post(
    schema=PasswordResetSchema(),
    validators=(colander_body_validator,),
    content_type=("application/json",),
    permission=PUBLIC,
)
@responses({202: ResetRequestedJson, 429: ErrorsJson, 503: ErrorsJson})
def request_password_reset(request: Request) -> dict[str, Any]:
    """202 for any email, account or not (the mail goes only to an account's address);
    400 for one that could be no account's (sign-up's rule: control and bidi characters
    refused); 429 while the email or the client asked too often, like log-in."""
    request.shop.users.request_password_reset(
        request.validated["email"], client_address(request)
    )
    request.response.status = 202
    return {"detail": RESET_REQUESTED}


@password_reset_confirm.post(
    schema=NewPasswordSchema(),
    validators=(colander_body_validator,),
    content_type=("application/json",),
    permission=PUBLIC,
)
@responses({200: PasswordChangedJson, 400: ErrorsJson, 503: ErrorsJson})
def confirm_password_reset(request: Request) -> dict[str, Any]:
    """200 and the new password works; 400 for a used, expired or unknown token or a
    password that breaks the rules."""
    request.shop.users.reset_password(
        request.validated["token"], request.validated["password"]
    )
    return {"success": True}
