"""The floor: a bare WSGI app on waitress with FrameSell's thread count, no framework at all.

It answers ``/api/product/`` with the catalog bytes FrameSell served, and ``/api/order/``
with the orders bytes after verifying the caller's JWT with PyJWT (HS256), as the cheapest
conceivable server of the same responses would. Everything else is 404.

    python -m bench.floor --port 7000 --threads 8 --catalog c.json --orders o.json --secret S
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jwt
import waitress

JSON = ("Content-Type", "application/json; charset=UTF-8")


def make_floor_app(catalog: bytes, orders: bytes, secret: str) -> Callable[..., Iterable[bytes]]:
    """The bare WSGI app."""
    catalog_headers = [JSON, ("Content-Length", str(len(catalog)))]
    orders_headers = [JSON, ("Content-Length", str(len(orders)))]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/api/product/":
            start_response("200 OK", catalog_headers)
            return [catalog]
        if path == "/api/order/":
            parts = environ.get("HTTP_AUTHORIZATION", "").split()
            try:
                jwt.decode(parts[1], secret, algorithms=["HS256"])
            except (IndexError, jwt.InvalidTokenError):
                start_response("403 Forbidden", [("Content-Length", "0")])
                return [b""]
            start_response("200 OK", orders_headers)
            return [orders]
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]

    return app


def main() -> None:
    """Serve the floor app until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--orders", type=Path, required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    app = make_floor_app(args.catalog.read_bytes(), args.orders.read_bytes(), args.secret)
    # As FrameSell's ini files configure waitress: no "Task queue depth" line per request.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress.serve(app, host="127.0.0.1", port=args.port, threads=args.threads)


if __name__ == "__main__":
    main()
