"""The catalog's fast lane: a plain ``GET /api/product/`` answered before Pyramid's router.

Mounted the PasteDeploy way, as the filter ``catalog_fast_lane`` in front of the app in
production.ini's ``[pipeline:main]`` (development.ini inherits it).

The catalog is the shop's most requested page and, while unchanged, a copy of bytes kept
in memory (``catalog.current_encoded_catalog``). Through Pyramid each copy still costs the
router, four events, Cornice's view wrapper and webob's request and response objects:
most of the request's own time. This WSGI layer answers the plainest form of that request
itself — GET, no query string, no body, no CORS ``Origin``, no If-None-Match or exactly the
current ETag — with the same status, headers, body and request log line the full stack
gives (``tests/api/test_catalog_fast_lane.py`` compares them), and hands every other
request, and this one whenever anything is unusual (the store unreachable, a weak or
listed ETag), to the router unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from pyramid.registry import Registry
from pyramid.router import Router

from framesell.entrypoints.http.catalog import current_encoded_catalog
from framesell.entrypoints.http.tweens import (
    API_HEADERS,
    REQUEST_ID_HEADER,
    VARY_ORIGIN,
    access_log,
    https_headers,
    new_request_id,
)
from framesell.entrypoints.logs import request_id_bound

CATALOG_PATH = "/api/product/"
StartResponse = Callable[..., Any]


def _plain_catalog_get(environ: dict[str, Any]) -> bool:
    return (
        environ.get("PATH_INFO") == CATALOG_PATH
        and environ.get("REQUEST_METHOD") == "GET"
        and not environ.get("SCRIPT_NAME")
        and not environ.get("QUERY_STRING")
        and "HTTP_ORIGIN" not in environ
        and environ.get("CONTENT_LENGTH") in (None, "", "0")
        and "HTTP_TRANSFER_ENCODING" not in environ
    )


class FastLane:
    """A WSGI filter: the router, with the catalog's plainest GET answered first."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.registry: Registry = router.registry
        self._catalog = router.registry.framesell_shop.catalog
        self._proxies = router.registry.framesell_shop.settings.trusted_proxies

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer a plain catalog GET here; anything else goes to Pyramid's router."""
        if not _plain_catalog_get(environ):
            return self._route(environ, start_response)
        started = time.perf_counter()
        try:
            encoded = current_encoded_catalog(self._catalog, self.registry).all
        except Exception:  # the store unreachable, say: the router answers it properly
            return self._route(environ, start_response)
        offered = environ.get("HTTP_IF_NONE_MATCH")
        if offered is None:
            status, code, headers, body = "200 OK", 200, encoded.headers, [encoded.body]
        elif offered == encoded.quoted_etag:
            status, code, headers, body = "304 Not Modified", 304, encoded.not_modified_headers, []
        else:  # a weak, listed or stale ETag: webob's parsing decides, in the router
            return self._route(environ, start_response)
        request_id = new_request_id(environ)
        with request_id_bound(request_id):
            access_log.write(
                "GET", CATALOG_PATH, code, round((time.perf_counter() - started) * 1000, 2), None
            )
        start_response(
            status,
            [
                *headers,
                *VARY_ORIGIN,
                *API_HEADERS,
                *https_headers(environ, self._proxies),
                (REQUEST_ID_HEADER, request_id),
            ],
        )
        return body

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        answer: Iterable[bytes] = self.router(environ, start_response)
        return answer


def filter_factory(
    global_config: dict[str, Any] | None, **settings: Any
) -> Callable[[Router], FastLane]:
    """The PasteDeploy filter factory (``egg:framesell#catalog_fast_lane``); no settings.

    The app it wraps must be FrameSell's router (``framesell:main``): the lane answers from
    that app's own shop.
    """
    return FastLane
