"""Downloading a paid digital purchase: a signed, expiring link, then the file."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request

from framesell.domain.errors import DownloadNotFound
from framesell.entrypoints.http.errors import Endpoint, validation_failed
from framesell.entrypoints.http.openapi import responses
from framesell.entrypoints.http.orders import _caller_id, _order_id
from framesell.entrypoints.http.response_schemas import DownloadLinkJson, ErrorsJson
from framesell.entrypoints.http.security import PUBLIC, SHOPPER
from framesell.entrypoints.http.serializers import timestamp_json

item_download = Endpoint(
    name="order_download",
    path="/api/order/{id}/download/{item}/",
    description="A signed, expiring link to a paid digital item's file (the buyer only).",
    error_handler=validation_failed,
)
signed_download = Endpoint(
    name="signed_download",
    path="/api/download/{token}/",
    description="Open a signed download link: a redirect to the purchased file.",
    error_handler=validation_failed,
)


def _item_id(request: Request) -> int:
    raw_id = str(request.matchdict["item"])
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 6:
        raise DownloadNotFound()
    return int(raw_id)


@item_download.get(permission=SHOPPER)
@responses({200: DownloadLinkJson, 404: ErrorsJson, 409: ErrorsJson, 503: ErrorsJson})
def download_link(request: Request) -> dict[str, Any]:
    """200 with a link valid for minutes; 409 while the order is not paid or once it was
    refunded in full; 404 for another shopper's order, a print or no such line."""
    link = request.shop.downloads.link(
        _caller_id(request), _order_id(request), _item_id(request)
    )
    request.response.headers["Cache-Control"] = "no-store"
    return {"url": f"/api/download/{link.token}/", "expires": timestamp_json(link.expires)}


@signed_download.get(permission=PUBLIC)
@responses({302: None, 404: ErrorsJson, 409: ErrorsJson, 503: ErrorsJson})
def open_download(request: Request) -> HTTPFound:
    """302 to the file while the link is valid and the order still paid; the link itself
    is the credential (no token needed, so a browser can simply open it)."""
    location = request.shop.downloads.open(str(request.matchdict["token"]))
    return HTTPFound(
        location=location,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
