"""Each shopper's order list kept encoded per process, served again while it is unchanged.

A shopper's list changes only when one of their orders does, and every such change bumps
the list's version in the database in the same transaction (``OrderRepository.list_version``).
So a process that keeps a shopper's encoded list with the version it was read at serves it
again after one primary-key read, whichever process made the last change. Entries are keyed
by the user id the request's verified token names and hold only that user's list; the
least recently used are dropped beyond ``MAX_KEPT_LISTS`` lists or ``MAX_KEPT_BYTES`` of
encoded lists, and a list larger than ``MAX_LIST_BYTES`` is served but not kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from pyramid.request import Request

from framesell.application.orders import OrderService
from framesell.entrypoints.http.encoded import REVALIDATE_PRIVATE, EncodedJson
from framesell.entrypoints.http.serializers import order_json

# About 5 KB per list of ten orders. Bounded in count and in bytes, so a few shoppers with
# thousands of orders cannot make a process grow: at most ~8 MiB of bodies per process.
MAX_KEPT_LISTS = 2048
MAX_KEPT_BYTES = 8 * 2**20
MAX_LIST_BYTES = MAX_KEPT_BYTES // 16
# Where each app keeps its lists (Pyramid's registry is a dict per app).
_ENCODED_ORDER_LISTS = "framesell.encoded_order_lists"


@dataclass(frozen=True)
class EncodedOrderList:
    """One shopper's encoded list and the list version it was read at."""

    user_id: int
    version: int
    encoded: EncodedJson


class EncodedOrderLists:
    """The encoded order lists of the shoppers seen lately, each checked before it is served."""

    def __init__(
        self,
        orders: OrderService,
        max_lists: int = MAX_KEPT_LISTS,
        max_bytes: int = MAX_KEPT_BYTES,
        max_list_bytes: int = MAX_LIST_BYTES,
    ) -> None:
        self._orders = orders
        self._max_lists = max_lists
        self._max_bytes = max_bytes
        self._max_list_bytes = max_list_bytes
        self._lists: OrderedDict[int, EncodedOrderList] = OrderedDict()
        self._bytes = 0  # the kept bodies' total size
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many shoppers' lists are kept."""
        return len(self._lists)

    @property
    def kept_bytes(self) -> int:
        """The kept lists' encoded bodies, in bytes."""
        return self._bytes

    def current(self, user_id: int) -> EncodedJson:
        """The shopper's list as stored now: the kept copy if its version is still the
        stored one (one primary-key read), else read (one query), encoded and kept.

        NotAuthenticated if the account no longer exists.
        """
        with self._lock:
            kept = self._lists.get(user_id)
        if kept is not None and self._orders.order_list_version(user_id) == kept.version:
            with self._lock:
                if user_id in self._lists:
                    self._lists.move_to_end(user_id)
            return kept.encoded
        # Not kept, or changed: the version and the orders are read in one statement.
        found = self._orders.list_orders_of_account(user_id)
        if found.user_id != user_id:  # never keep or serve a list under another's id
            raise AssertionError("the store answered another shopper's order list")
        encoded = EncodedJson.of(
            [order_json(order) for order in found.orders], cache_control=REVALIDATE_PRIVATE
        )
        with self._lock:
            # Two threads may both read a changed list; the later version wins.
            newer = self._lists.get(user_id)
            if newer is None or newer.version <= found.version:
                if newer is not None:
                    self._bytes -= len(self._lists.pop(user_id).encoded.body)
                if len(encoded.body) <= self._max_list_bytes:
                    self._lists[user_id] = EncodedOrderList(user_id, found.version, encoded)
                    self._bytes += len(encoded.body)
            if user_id in self._lists:
                self._lists.move_to_end(user_id)
            while len(self._lists) > self._max_lists or self._bytes > self._max_bytes:
                self._bytes -= len(self._lists.popitem(last=False)[1].encoded.body)
        return encoded


def encoded_order_lists(request: Request) -> EncodedOrderLists:
    """This app's (so this process's) kept order lists."""
    return kept_order_lists(request.shop.orders, request.registry)


def kept_order_lists(orders: OrderService, cache: MutableMapping[str, Any]) -> EncodedOrderLists:
    """The order lists kept in ``cache`` (the app's registry), made on first use: one store
    per app, which the router's view and the fast lane (``fastlane.py``) both serve from."""
    kept: EncodedOrderLists | None = cache.get(_ENCODED_ORDER_LISTS)
    if kept is None:
        # Two first requests may both make one; setdefault keeps the first for both.
        kept = cache.setdefault(_ENCODED_ORDER_LISTS, EncodedOrderLists(orders))
    return kept
