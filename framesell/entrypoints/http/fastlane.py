"""The fast lane: the catalog and a shopper's order list, answered before Pyramid's router.

Mounted the PasteDeploy way, as the filter ``catalog_fast_lane`` (its name from when it
answered only the catalog) in front of the app in production.ini's ``[pipeline:main]``
(development.ini inherits it).

Both answers are bytes kept in memory per process: the catalog
(``catalog.current_encoded_catalog``) and each shopper's order list
(``order_lists.kept_order_lists``, checked against the stored list version first). Through
Pyramid each copy still costs the router, four events, Cornice's view wrapper and webob's
request and response objects: most of the request's own time. This WSGI layer answers the
plainest form of these two requests itself — GET, no query string, no body, no CORS
``Origin``, no If-None-Match or exactly the current ETag:

- ``GET /api/product/``: the kept catalog.
- ``GET /api/order/`` with an Authorization header whose token the security policy would
  accept (``security.verified_user_id``; ``SHOPPER`` asks for nothing more): that token's
  account's list, from the same kept lists the router's view serves.

It answers with the same status, headers, body and request log line the full stack gives
(``tests/api/test_catalog_fast_lane.py`` and ``test_order_list_fast_lane.py`` compare
them), and hands every other request, and these whenever anything is unusual (a refused
token, a vanished account, the store unreachable, a weak or listed ETag), to the router
unchanged, so a refusal is the router's own answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from pyramid.registry import Registry
from pyramid.router import Router

from framesell.entrypoints.http.catalog import current_encoded_catalog
from framesell.entrypoints.http.encoded import EncodedJson
from framesell.entrypoints.http.order_lists import kept_order_lists
from framesell.entrypoints.http.security import verified_user_id
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
ORDER_LIST_PATH = "/api/order/"
StartResponse = Callable[..., Any]


def _plain_get(environ: dict[str, Any]) -> bool:
    return (
        environ.get("REQUEST_METHOD") == "GET"
        and not environ.get("SCRIPT_NAME")
        and not environ.get("QUERY_STRING")
        and "HTTP_ORIGIN" not in environ
        and environ.get("CONTENT_LENGTH") in (None, "", "0")
        and "HTTP_TRANSFER_ENCODING" not in environ
    )


class FastLane:
    """A WSGI filter: the router, with the plainest catalog and order list GETs answered first."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.registry: Registry = router.registry
        shop = router.registry.framesell_shop
        self._catalog = shop.catalog
        self._users = shop.users
        # The router's view serves from this same store (order_lists.encoded_order_lists).
        self._order_lists = kept_order_lists(shop.orders, router.registry)
        self._proxies = shop.settings.trusted_proxies

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer a plain catalog or order list GET here; anything else goes to the router."""
        path = environ.get("PATH_INFO")
        if (path != CATALOG_PATH and path != ORDER_LIST_PATH) or not _plain_get(environ):
            return self._route(environ, start_response)
        started = time.perf_counter()
        found = self._catalog_now() if path == CATALOG_PATH else self._order_list_now(environ)
        if found is None:
            return self._route(environ, start_response)
        encoded, user_id = found
        return self._answer(environ, start_response, path, encoded, started, user_id)

    def _catalog_now(self) -> tuple[EncodedJson, None] | None:
        try:
            return current_encoded_catalog(self._catalog, self.registry).all, None
        except Exception:  # the store unreachable, say: the router answers it properly
            return None

    def _order_list_now(self, environ: dict[str, Any]) -> tuple[EncodedJson, int] | None:
        """The list of the account the request's token names, or None for the router."""
        authorization = environ.get("HTTP_AUTHORIZATION")
        if authorization is None:
            return None
        try:
            # What the security policy's identity is made of; SHOPPER asks nothing more.
            user_id = verified_user_id(self._users, authorization)
            # Keyed by the verified id: only that account's list, or NotAuthenticated.
            return self._order_lists.current(user_id), user_id
        except Exception:  # refused token, vanished account, store unreachable: the router's
            return None

    def _answer(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        path: str,
        encoded: EncodedJson,
        started: float,
        user_id: int | None,
    ) -> Iterable[bytes]:
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
                "GET", path, code, round((time.perf_counter() - started) * 1000, 2), user_id
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
