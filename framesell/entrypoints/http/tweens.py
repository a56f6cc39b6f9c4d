"""Request plumbing around every request: size limit, trailing slash, CORS, headers, logs."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from framesell.entrypoints.http.apidocs import API_DOCS_PATH
from framesell.entrypoints.http.client_addresses import came_over_https
from framesell.entrypoints.http.security import USER_ID_ENVIRON_KEY
from framesell.entrypoints.logs import AccessLog, request_id_bound

MAX_BODY_BYTES = 64 * 1024
Handler = Callable[[Request], Response]


def _too_large() -> Response:
    message = f"request body larger than {MAX_BODY_BYTES} bytes"
    return Response(
        status=413,
        json_body={
            "status": "error",
            "errors": [{"location": "body", "name": "", "description": message}],
        },
        charset="utf-8",
    )


def body_too_large(request: Request) -> bool:
    """Whether the body is over 64 KiB, announced by Content-Length or streamed (then read)."""
    length = request.content_length
    if length is not None:
        return bool(length > MAX_BODY_BYTES)
    if request.method in {"POST", "PUT", "PATCH"}:
        data = request.body_file_raw.read(MAX_BODY_BYTES + 1)
        if len(data) > MAX_BODY_BYTES:
            return True
        request.body = data
    return False


def add_trailing_slash(request: Request) -> None:
    """Route ``/api/order`` as ``/api/order/`` without a redirect (a POST would lose its body)."""
    path = request.path_info
    if path.startswith("/api/") and not path.endswith("/"):
        last = path.rsplit("/", 1)[-1]
        if "." not in last:  # openapi.json and other files keep their names
            request.path_info = path + "/"


CORS_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-ID"
CORS_EXPOSED = "ETag, Retry-After, X-Request-ID"


VARY_ORIGIN = (("Vary", "Origin"),)


def add_headers(response: Response, pairs: tuple[tuple[str, str], ...]) -> None:
    """Set headers as ``response.headers[name] = value`` does, in one pass over the list.

    Most responses have none of them yet, so they are appended in order; a response that
    already has one gets each replaced the usual way.
    """
    headerlist = response.headerlist
    names = {name.lower() for name, _ in pairs}
    if any(name.lower() in names for name, _ in headerlist):
        for name, value in pairs:
            response.headers[name] = value
    else:
        headerlist.extend(pairs)


def cors_preflight(origin: str, allowed: frozenset[str]) -> Response:
    """The 204 answer to a CORS preflight; it allows only the configured origins."""
    response = Response(status=204)
    if origin in allowed:
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
# The interactive API page (apidocs.py): its own files and calls to this API, nothing inline;
# Swagger UI draws a few icons from data: images.
API_DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Stripe.js from Stripe itself also talks to its API and shows 3-D Secure from hooks.
STRIPE_COMPANION_ORIGINS = {
    "https://js.stripe.com": {
        "connect-src": ("https://api.stripe.com",),
        "frame-src": ("https://hooks.stripe.com",),
    }
}


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL (the origin a CSP source names)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def frontend_content_security_policy(stripe_js_url: str) -> str:
    """The frontend's CSP: only the shop itself, and Stripe.js from the configured origin."""
    stripe = origin_of(stripe_js_url)
    extra = STRIPE_COMPANION_ORIGINS.get(stripe, {})
    directives = {
        "default-src": ("'self'",),
        "script-src": ("'self'", stripe),
        "frame-src": (stripe, *extra.get("frame-src", ())),
        "connect-src": ("'self'", stripe, *extra.get("connect-src", ())),
        "img-src": ("'self'", "data:", "https:"),
        "style-src": ("'self'",),
        "object-src": ("'none'",),
        "base-uri": ("'self'",),
        "form-action": ("'self'",),
        "frame-ancestors": ("'none'",),
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def is_api_path(path: str) -> bool:
    """Whether a path belongs to the JSON API rather than the frontend."""
    return path == "/api" or path.startswith("/api/")


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
)
API_HEADERS = (*SECURITY_HEADERS, ("Content-Security-Policy", API_CONTENT_SECURITY_POLICY))
API_DOCS_HEADERS = (
    *SECURITY_HEADERS,
    ("Content-Security-Policy", API_DOCS_CONTENT_SECURITY_POLICY),
)
# Sent only on answers to requests that came over https (came_over_https): browsers
# ignore it over http, and a shop behind plain http must not promise https.
HSTS_HEADERS = (("Strict-Transport-Security", "max-age=31536000"),)


def https_headers(environ: dict[str, Any], proxies: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """HSTS for a request that came over https (directly or from a trusted proxy), else none."""
    return HSTS_HEADERS if came_over_https(environ, proxies) else ()


REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_ENVIRON_KEY = "framesell.request_id"
# A client's request id is echoed and logged, so it must be short and harmless.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = AccessLog(logging.getLogger("framesell.access"))


def new_request_id(environ: dict[str, Any]) -> str:
    """The client's X-Request-ID if usable, else a new one; noted in the WSGI environ."""
    offered = environ.get("HTTP_X_REQUEST_ID", "")
    request_id = offered if VALID_REQUEST_ID.match(offered) else uuid.uuid4().hex
    environ[REQUEST_ID_ENVIRON_KEY] = request_id
    return request_id


def request_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Around every request, in one tween: what a request needs before and after its view.

    A request id (the client's X-Request-ID if usable, else a new one), echoed back; 413
    for a body over 64 KiB; ``/api/x`` routed as ``/api/x/``; CORS for the origins in
    ``framesell.cors_origins`` (preflights answered, ``Vary: Origin`` on the API); the
    security headers (a strict CSP for the API, one allowing Stripe.js for pages); and one
    request log line. One tween rather than five: each tween is a layer of calls and
    header scans on every request.
    """
    settings = registry.framesell_shop.settings
    allowed = frozenset(settings.cors_origins)
    proxies = settings.trusted_proxies
    frontend_policy = frontend_content_security_policy(settings.stripe_js_url)
    frontend_headers = (*SECURITY_HEADERS, ("Content-Security-Policy", frontend_policy))

    def request_tween(request: Request) -> Response:
        environ = request.environ
        request_id = new_request_id(environ)
        method, path = request.method, request.path
        started = time.perf_counter()
        status = 500  # what the server answers if the handler raises past every view
        with request_id_bound(request_id):
            try:
                response = _respond(request, method)
                status = response.status_code
            finally:
                access_log.write(
                    method,
                    path,
                    status,
                    round((time.perf_counter() - started) * 1000, 2),
                    environ.get(USER_ID_ENVIRON_KEY),
                )
        path_info = request.path_info
        headers: tuple[tuple[str, str], ...] = ()
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin in allowed:
            headers = (
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Expose-Headers", CORS_EXPOSED),
            )
        if path_info.startswith("/api/"):
            if response.vary:
                add_headers(response, headers)
                headers = ()
                response.vary = tuple(sorted({*response.vary, "Origin"}))
            else:
                headers += VARY_ORIGIN
        if not is_api_path(path_info):
            headers += frontend_headers
        elif path_info.startswith(API_DOCS_PATH):
            headers += API_DOCS_HEADERS
        else:
            headers += API_HEADERS
        headers += https_headers(environ, proxies)
        add_headers(response, (*headers, (REQUEST_ID_HEADER, request_id)))
        return response

    def _respond(request: Request, method: str) -> Response:
        if body_too_large(request):
            return _too_large()
        add_trailing_slash(request)
        origin = request.environ.get("HTTP_ORIGIN")
        if (
            method == "OPTIONS"
            and origin is not None
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.environ
        ):
            return cors_preflight(origin, allowed)
        return handler(request)

    return request_tween
