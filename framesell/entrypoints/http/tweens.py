"""Request plumbing around every request: size limit, trailing slash, CORS, headers, logs."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from framesell.entrypoints.http.security import USER_ID_ENVIRON_KEY
from framesell.entrypoints.logs import request_id_bound

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


def body_limit_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Refuse bodies over 64 KiB with 413, whether announced by Content-Length or streamed."""

    def body_limit_tween(request: Request) -> Response:
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            return _too_large()
        if length is None and request.method in {"POST", "PUT", "PATCH"}:
            data = request.body_file_raw.read(MAX_BODY_BYTES + 1)
            if len(data) > MAX_BODY_BYTES:
                return _too_large()
            request.body = data
        return handler(request)

    return body_limit_tween


def trailing_slash_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Route ``/api/order`` as ``/api/order/`` without a redirect (a POST would lose its body)."""

    def trailing_slash_tween(request: Request) -> Response:
        path = request.path_info
        if path.startswith("/api/") and not path.endswith("/"):
            last = path.rsplit("/", 1)[-1]
            if "." not in last:  # openapi.json and other files keep their names
                request.path_info = path + "/"
        return handler(request)

    return trailing_slash_tween


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


def cors_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """CORS for the origins in ``framesell.cors_origins``: preflights answered, ``Vary: Origin``."""
    allowed = frozenset(registry.framesell_services.settings.cors_origins)

    def cors_tween(request: Request) -> Response:
        origin = request.headers.get("Origin")
        preflight = (
            request.method == "OPTIONS"
            and origin is not None
            and "Access-Control-Request-Method" in request.headers
        )
        if preflight:
            response = Response(status=204)
            if origin in allowed:
                response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
                response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = handler(request)
        if origin is not None and origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
        if request.path_info.startswith("/api/"):
            if response.vary:
                response.vary = tuple(sorted({*response.vary, "Origin"}))
            else:
                add_headers(response, VARY_ORIGIN)
        return response

    return cors_tween


API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
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


def security_headers_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Security headers on every response; a strict CSP for the API, Stripe.js for pages."""
    frontend_policy = frontend_content_security_policy(
        registry.framesell_services.settings.stripe_js_url
    )

    api_headers = (*SECURITY_HEADERS, ("Content-Security-Policy", API_CONTENT_SECURITY_POLICY))
    frontend_headers = (*SECURITY_HEADERS, ("Content-Security-Policy", frontend_policy))

    def security_headers_tween(request: Request) -> Response:
        response = handler(request)
        add_headers(response, api_headers if is_api_path(request.path_info) else frontend_headers)
        return response

    return security_headers_tween


REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_ENVIRON_KEY = "framesell.request_id"
# A client's request id is echoed and logged, so it must be short and harmless.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("framesell.access")


def request_log_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """One log line per request; the request id from X-Request-ID (or new) is echoed back."""

    def request_log_tween(request: Request) -> Response:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if VALID_REQUEST_ID.match(offered) else uuid.uuid4().hex
        request.environ[REQUEST_ID_ENVIRON_KEY] = request_id
        method, path = request.method, request.path
        started = time.perf_counter()
        status = 500  # what the server answers if the handler raises past every view
        with request_id_bound(request_id):
            try:
                response = handler(request)
                status = response.status_code
            finally:
                access_log.info(
                    "%s %s %s",
                    method,
                    path,
                    status,
                    extra={
                        "method": method,
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "user_id": request.environ.get(USER_ID_ENVIRON_KEY),
                    },
                )
        add_headers(response, ((REQUEST_ID_HEADER, request_id),))
        return response

    return request_log_tween
