"""The one place errors become JSON: no stack trace and no 500 for anything a client sends."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import colander
from cornice import Service
from cornice.util import current_service
from pyramid.httpexceptions import HTTPException, HTTPForbidden
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config

from framesell.application import errors as infrastructure
from framesell.domain import errors
from framesell.entrypoints.http.response_schemas import DetailJson, ErrorsJson, FailureJson

log = logging.getLogger(__name__)
T = TypeVar("T")

# The status of each DomainError. It is decided here, in the HTTP layer: the domain knows no
# HTTP. The most specific class wins: the error's own class if it is listed, else its
# nearest listed base along its MRO (PaymentDeclined is 402 although a PaymentError is 503;
# OrderNotFound is a NotFound, 404; an error listed nowhere is a DomainError, 400).
STATUS_OF: Mapping[type[errors.DomainError], int] = {
    errors.DomainError: 400,
    errors.InvalidInput: 400,
    errors.EmailTaken: 400,
    errors.AuthenticationFailed: 400,
    errors.InvalidPaymentEvent: 400,
    errors.PaymentDeclined: 402,
    errors.NotAuthenticated: 403,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.InvalidTransition: 409,
    errors.DownloadRefused: 409,
    errors.IdempotencyKeyInUse: 409,
    errors.IdempotencyKeyReused: 422,
    errors.TooManyAttempts: 429,
    errors.PaymentError: 503,
    infrastructure.StorageUnavailable: 503,
    infrastructure.PaymentEventTooEarly: 503,
}

# When to ask again, by the same rule (TooManyAttempts says its own wait).
RETRY_AFTER_OF: Mapping[type[errors.DomainError], str] = {
    errors.IdempotencyKeyInUse: "1",
    infrastructure.StorageUnavailable: "1",
    infrastructure.PaymentEventTooEarly: "60",
}


def most_specific(table: Mapping[type[errors.DomainError], T], exc: errors.DomainError) -> T | None:
    """The entry of the exception's own class, else of its nearest base in the table."""
    for kind in type(exc).__mro__:
        if kind in table:
            return table[kind]
    return None


def status_of(exc: errors.DomainError) -> int:
    """The HTTP status a DomainError is answered with (``STATUS_OF``, most specific wins)."""
    return most_specific(STATUS_OF, exc) or 400


# --- the error shapes, declared on each endpoint ----------------------------------------------


class ErrorShape:
    """How an endpoint words its error answers: ``{"status": "error", "errors": [...]}``.

    Each endpoint declares its shape where it is defined (``Endpoint(...,
    error_shape=...)``); the error views answer in it and the OpenAPI document describes it
    with ``schema``. This one is the shape of every endpoint the original shop did not have.
    """

    schema: ClassVar[type[colander.SchemaNode]] = ErrorsJson

    def __init__(self, *, refused_body: str = "") -> None:
        # What an answer to a body the schema refuses says; "" names the fields and why.
        self.refused_body = refused_body

    def body(self, message: str, entries: list[dict[str, str]]) -> dict[str, Any]:
        """The error JSON; without entries, the message is the one entry."""
        return {"status": "error", "errors": entries or [_entry(message)]}

    def refusal(self, entries: list[dict[str, str]]) -> str:
        """The message of an answer to a body the schema refused."""
        return self.refused_body or describe(entries)


class DetailShape(ErrorShape):
    """The original log-in's errors: ``{"detail": message}``, ``errors`` when there are any."""

    schema = DetailJson

    def body(self, message: str, entries: list[dict[str, str]]) -> dict[str, Any]:
        """``{"detail": message}``, with the entries if there are any."""
        body: dict[str, Any] = {"detail": message}
        if entries:
            body["errors"] = entries
        return body


class FailureShape(ErrorShape):
    """The original sign-up's and order's errors: ``{"success": false, "error": message}``."""

    schema = FailureJson

    def body(self, message: str, entries: list[dict[str, str]]) -> dict[str, Any]:
        """``{"success": false, "error": message}``, with the entries if there are any."""
        body: dict[str, Any] = {"success": False, "error": message}
        if entries:
            body["errors"] = entries
        return body


ERRORS_LIST = ErrorShape()


class Endpoint(Service):
    """An HTTP endpoint: a Cornice ``Service`` declaring the shape of its error answers."""

    def __init__(
        self, name: str, *, error_shape: ErrorShape = ERRORS_LIST, depth: int = 1, **kw: Any
    ) -> None:
        self.error_shape = error_shape
        # One frame deeper than Cornice expects: venusian must see the module defining us.
        super().__init__(name, depth=depth + 1, **kw)


def error_shape_of(endpoint: Service | None) -> ErrorShape:
    """The shape an endpoint declared (``error_shape=``); the errors list for any other."""
    shape = getattr(endpoint, "error_shape", None)
    return shape if isinstance(shape, ErrorShape) else ERRORS_LIST


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
    """The error JSON in the shape the matched endpoint declared."""
    return _shape(request).body(message, entries)


def _shape(request: Request) -> ErrorShape:
    return error_shape_of(current_service(request))


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
    shape = _shape(request)
    return json_error(request, status, shape.body(shape.refusal(entries), entries))


# Failures that name no field: the original's shapes carry only their message.
MESSAGE_ONLY = (errors.AuthenticationFailed, errors.TooManyAttempts)


@exception_view_config(errors.DomainError)
def domain_error(exc: errors.DomainError, request: Request) -> Response:
    """Map a DomainError to its status code and the endpoint's error shape."""
    if isinstance(exc, errors.NotAuthenticated | errors.PermissionDenied):
        body: dict[str, Any] = {"detail": exc.message}
    elif isinstance(exc, MESSAGE_ONLY):
        body = error_body(request, exc.message, [])
    else:
        name = exc.field if isinstance(exc, errors.InvalidInput) else ""
        body = error_body(request, exc.message, [_entry(exc.message, name=name)])
    response = json_error(request, status_of(exc), body)
    if isinstance(exc, errors.TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    else:
        retry_after = most_specific(RETRY_AFTER_OF, exc)
        if retry_after is not None:
            response.headers["Retry-After"] = retry_after
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
