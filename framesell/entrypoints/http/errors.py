"""The one place errors become JSON: no stack trace and no 500 for anything a client sends."""

from __future__ import annotations

import logging
from typing import Any

from pyramid.httpexceptions import HTTPException, HTTPForbidden
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config

from framesell.application import errors as infrastructure
from framesell.domain import errors

log = logging.getLogger(__name__)

STATUS_OF: list[tuple[type[errors.DomainError], int]] = [
    (errors.InvalidInput, 400),
    (errors.EmailTaken, 400),
    (errors.AuthenticationFailed, 400),
    (errors.NotAuthenticated, 403),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.InvalidTransition, 409),
    (errors.DownloadRefused, 409),
    (errors.PaymentDeclined, 402),
    (errors.TooManyAttempts, 429),
    (errors.PaymentError, 503),
    (errors.IdempotencyKeyInUse, 409),
    (errors.IdempotencyKeyReused, 422),
    (infrastructure.StorageUnavailable, 503),
    (errors.InvalidPaymentEvent, 400),
    (infrastructure.PaymentEventTooEarly, 503),
]

# The original endpoints answer errors in their own shapes (docs/api.md); the rest use "status".
DETAIL = "detail"
SUCCESS = "success"
SHAPE_OF_SERVICE = {"login": DETAIL, "signup": SUCCESS, "orders": SUCCESS}


class JsonErrorResponse(Response, Exception):
    """A JSON error answer that can also be raised, as Cornice raises its error handler's.

    Cornice's fallback view (a Content-Type a view does not read → 415) raises what the
    error handler returns; a plain Response there was a TypeError and a 500.
    """

    def __init__(self, **kwargs: Any) -> None:
        Response.__init__(self, **kwargs)


def _text(value: Any) -> str:
    # Cornice words some errors (the 415's) as ASCII bytes.
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)


def error_entries(request: Request) -> list[dict[str, str]]:
    """Cornice's validation errors as plain dicts, worded for people."""
    entries = [
        {
            "location": _text(e.get("location", "")),
            "name": _text(e.get("name", "")),
            "description": _text(e.get("description", "")),
        }
        for e in request.errors
    ]
    unreadable = [e for e in entries if e["description"].startswith("Invalid JSON")]
    if unreadable:  # the schema's "Required" errors after a parse failure say nothing new
        return unreadable
    for entry in entries:
        description = entry["description"]
        if not entry["name"] and (
            "is not a mapping type" in description or description.startswith("Should be a JSON")
        ):
            entry["description"] = "the request body must be a JSON object"
    return entries


def describe(entries: list[dict[str, str]]) -> str:
    """One human-readable sentence for a list of validation errors."""
    parts = []
    for entry in entries:
        name, text = entry["name"], entry["description"]
        parts.append(f"{name}: {text}" if name else text)
    return "; ".join(parts) or "invalid request"


def error_body(request: Request, message: str, entries: list[dict[str, str]]) -> dict[str, Any]:
    """The error JSON in the shape the matched endpoint promises."""
    route = getattr(request, "matched_route", None)
    shape = SHAPE_OF_SERVICE.get(route.name if route is not None else "", "")
    if shape == DETAIL:
        body: dict[str, Any] = {"detail": message}
    elif shape == SUCCESS:
        body = {"success": False, "error": message}
    else:
        return {"status": "error", "errors": entries or [_entry(message)]}
    if entries:
        body["errors"] = entries
    return body


def _entry(message: str, location: str = "body", name: str = "") -> dict[str, str]:
    return {"location": location, "name": name, "description": message}


def json_error(request: Request, status: int, body: dict[str, Any]) -> JsonErrorResponse:
    """A JSON error response that keeps the CORS and security headers tweens add."""
    return JsonErrorResponse(status=status, json_body=body, charset="utf-8")


@exception_view_config(JsonErrorResponse)
def raised_json_error(exc: JsonErrorResponse, request: Request) -> Response:
    """An error answer that was raised rather than returned is answered as it is."""
    return exc


def validation_failed(request: Request) -> Response:
    """Cornice's error handler: 400 in the endpoint's own shape, never Cornice's HTML."""
    entries = error_entries(request)
    status = getattr(request.errors, "status", 400) or 400
    if request.matched_route is not None and request.matched_route.name == "login":
        message = "authorization failure"
    else:
        message = describe(entries)
    return json_error(request, status, error_body(request, message, entries))


@exception_view_config(errors.DomainError)
def domain_error(exc: errors.DomainError, request: Request) -> Response:
    """Map a DomainError to its status code and the endpoint's error shape."""
    status = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), 400)
    if isinstance(exc, errors.NotAuthenticated | errors.PermissionDenied):
        body: dict[str, Any] = {"detail": exc.message}
    else:
        name = exc.field if isinstance(exc, errors.InvalidInput) else ""
        body = error_body(request, exc.message, [_entry(exc.message, name=name)])
        # The original endpoints' shapes carry the message themselves; the new shape's is
        # its one entry.
        if (
            body.get("errors")
            and "status" not in body  # the generic shape is its errors list
            and isinstance(exc, errors.AuthenticationFailed | errors.TooManyAttempts)
        ):
            body.pop("errors")
    response = json_error(request, status, body)
    if isinstance(exc, errors.TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    elif isinstance(exc, errors.IdempotencyKeyInUse | infrastructure.StorageUnavailable):
        response.headers["Retry-After"] = "1"
    elif isinstance(exc, infrastructure.PaymentEventTooEarly):
        response.headers["Retry-After"] = "60"
    return response


@notfound_view_config()
def not_found(request: Request) -> Response:
    """Unknown paths get JSON too."""
    return json_error(request, 404, {"status": "error", "errors": [_entry("not found", "url")]})


@forbidden_view_config()
def forbidden(exc: HTTPForbidden, request: Request) -> Response:
    """A view's permission refused the caller: 403 ``{"detail": why}``, the original's texts."""
    reason = getattr(exc.result, "msg", None) or str(exc.detail or exc.title)
    return json_error(request, 403, {"detail": str(reason)})


@exception_view_config(HTTPException)
def http_exception(exc: HTTPException, request: Request) -> Response:
    """Pyramid's and Cornice's HTTP errors (405, 406, 415, 413 …) as JSON, headers kept."""
    message = exc.detail or exc.title
    response = json_error(request, exc.code or 500, error_body(request, str(message), []))
    for header in ("Allow", "Retry-After"):
        if header in exc.headers:
            response.headers[header] = exc.headers[header]
    return response


@exception_view_config(Exception)
def unexpected_error(exc: Exception, request: Request) -> Response:
    """A bug: log it with its trace for us, answer 500 without details for the client."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return json_error(
        request,
        500,
        {"status": "error", "errors": [_entry("internal server error", "server")]},
    )
