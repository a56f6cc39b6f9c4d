"""JSON bodies encoded once and served with a strong ETag (the catalog, a shopper's orders)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

# Anyone may store the catalog, and must ask again before using it.
REVALIDATE = "no-cache"
# The same for one shopper's own data, which no shared cache may keep.
REVALIDATE_PRIVATE = "private, no-cache"


@dataclass(frozen=True)
class EncodedJson:
    """A JSON body encoded once, with its strong ETag.

    The ETag is derived from the bytes alone, so two bodies share one only when they are
    the same bytes: a client that offers another body's ETag never gets a 304 for this one.
    """

    body: bytes
    etag: str
    cache_control: str = REVALIDATE

    @classmethod
    def of(cls, data: Any, *, cache_control: str = REVALIDATE) -> EncodedJson:
        """Encode ``data`` compactly and derive the ETag from the bytes."""
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        return cls(body, hashlib.sha256(body).hexdigest()[:32], cache_control)

    @cached_property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """The 200's headers, as setting content type, ETag and Cache-Control makes them."""
        return (
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(self.body))),
            *self.not_modified_headers,
        )

    @cached_property
    def quoted_etag(self) -> str:
        """The ETag as the header carries it."""
        return f'"{self.etag}"'

    @cached_property
    def not_modified_headers(self) -> tuple[tuple[str, str], ...]:
        """The 304's headers: the ETag, and revalidate every time."""
        return (("ETag", self.quoted_etag), ("Cache-Control", self.cache_control))


def cacheable_json(request: Request, encoded: EncodedJson) -> Response:
    """A JSON response with a strong ETag; a matching If-None-Match gets 304 without a body."""
    # The header lists are built once per encoding; each response gets its own copy.
    if encoded.etag in request.if_none_match:
        return Response(status=304, headerlist=list(encoded.not_modified_headers))
    return Response(app_iter=[encoded.body], headerlist=list(encoded.headers))
