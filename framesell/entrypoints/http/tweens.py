"""Request plumbing that runs before routing: size limit and optional trailing slash."""

from __future__ import annotations

from collections.abc import Callable

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

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
            response.vary = tuple(sorted({*(response.vary or ()), "Origin"}))
        return response

    return cors_tween
