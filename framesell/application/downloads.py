"""Delivering a paid digital purchase: signed, expiring links to the photo's full file."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from framesell.application.ports import Clock, UnitOfWorkFactory
from framesell.domain.errors import DownloadNotFound, DownloadRefused, OrderNotFound
from framesell.domain.models import FormatKind, Order

DEFAULT_LINK_LIFETIME = timedelta(minutes=15)


class DownloadLinkInvalid(DownloadNotFound):
    """A link that was not signed by this shop, or has expired: ask the order for a new one."""

    message = "this download link is not valid or has expired; open your order for a new one"


@dataclass(frozen=True)
class DownloadLink:
    """A link (its opaque token) that gives one paid item's file until ``expires``."""

    token: str
    expires: datetime


class DownloadService:
    """Signs links to a paid order's digital items and turns a valid link into the file.

    A link names the order, the line and its expiry, signed with the shop's secret (HMAC
    over the buyer's id too); it carries no file location. Opening it checks the order
    again, so a full refund revokes links given out before it, and a failed or pending
    order never gets one.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        secret: bytes,
        *,
        lifetime: timedelta = DEFAULT_LINK_LIFETIME,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._secret = secret
        self._lifetime = lifetime

    def link(self, user_id: int, order_id: int, item_id: int) -> DownloadLink:
        """A fresh link to the file of the buyer's digital item; DownloadRefused (409) while
        the order is not paid or was refunded, DownloadNotFound (404) for no such item."""
        with self._uow() as uow:
            order = uow.orders.get(order_id)
        if order is None or order.user_id != user_id:
            raise OrderNotFound()
        self._deliverable(order, item_id)
        expires = int((self._clock.now() + self._lifetime).timestamp())
        payload = f"{order_id}.{item_id}.{expires}"
        token = f"{payload}.{self._signature(payload, order.user_id)}"
        return DownloadLink(token, datetime.fromtimestamp(expires, UTC))

    def open(self, token: str) -> str:
        """The file location a valid, unexpired link gives, checked against the order now."""
        parts = token.split(".")
        if len(parts) != 4 or not all(p.isascii() and p.isdigit() for p in parts[:3]):
            raise DownloadLinkInvalid()
        order_id, item_id, expires = (int(p) for p in parts[:3])
        if len(parts[0]) > 18 or len(parts[1]) > 6 or len(parts[2]) > 12:
            raise DownloadLinkInvalid()
        with self._uow() as uow:
            order = uow.orders.get(order_id)
        if order is None:
            raise DownloadLinkInvalid()
        payload = ".".join(parts[:3])
        if not hmac.compare_digest(parts[3], self._signature(payload, order.user_id)):
            raise DownloadLinkInvalid()
        if self._clock.now().timestamp() >= expires:
            raise DownloadLinkInvalid()
        return self._deliverable(order, item_id)

    def _deliverable(self, order: Order, item_id: int) -> str:
        """The file of the order's digital line ``item_id``, if the order is paid for."""
        item = next((i for i in order.items if i.id == item_id), None)
        if item is None or item.kind is not FormatKind.DIGITAL:
            raise DownloadNotFound()
        if not order.paid_for:
            raise DownloadRefused()
        with self._uow() as uow:
            product = uow.products.get(item.product_id)
        if product is None or not product.file_url:
            raise DownloadNotFound("the file of this photo is not available yet")
        return product.file_url

    def _signature(self, payload: str, user_id: int) -> str:
        message = f"download:{payload}:{user_id}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
