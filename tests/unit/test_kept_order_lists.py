"""Each process keeps shoppers' encoded order lists, bounded in count and in bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from framesell.domain.models import OrderList, OrderSummary, PaymentStatus, ProductSnapshot
from framesell.domain.money import Money
from framesell.entrypoints.http.order_lists import EncodedOrderLists


class _Orders:
    """The two reads EncodedOrderLists makes, over lists set by the test, counted."""

    def __init__(self) -> None:
        self.lists: dict[int, OrderList] = {}
        self.list_reads: list[int] = []

    def shopper(self, user_id: int, orders: int, version: int = 1) -> None:
        summaries = tuple(
            OrderSummary(
                id=user_id * 1000 + number,
                user_id=user_id,
                product=ProductSnapshot(
                    1,
                    f"Photo of shopper {user_id}",
                    "https://photos.example.com/1.jpg",
                    Money(5999),
                ),
                created_at=datetime(2026, 12, 1, tzinfo=UTC),
                status=PaymentStatus.PAID,
            )
            for number in range(orders)
        )
        self.lists[user_id] = OrderList(user_id, version, summaries)

    def order_list_version(self, user_id: int) -> int:
        return self.lists[user_id].version

    def list_orders_of_account(self, user_id: int) -> OrderList:
        self.list_reads.append(user_id)
        return self.lists[user_id]


def _ids(body: bytes) -> list[int]:
    return [order["id"] for order in json.loads(body)]


def test_an_unchanged_list_is_served_again_without_reading_the_orders() -> None:
    orders = _Orders()
    orders.shopper(1, 3)
    kept = EncodedOrderLists(orders)  # type: ignore[arg-type]
    first = kept.current(1)
    assert kept.current(1) is first
    assert orders.list_reads == [1]
    orders.shopper(1, 4, version=2)  # an order changed: the version moved on
    assert _ids(kept.current(1).body) == [1000, 1001, 1002, 1003]
    assert orders.list_reads == [1, 1]


def test_each_shopper_is_served_their_own_list() -> None:
    orders = _Orders()
    for user_id in (1, 2, 3):
        orders.shopper(user_id, user_id)
    kept = EncodedOrderLists(orders)  # type: ignore[arg-type]
    for _ in range(2):
        for user_id in (3, 1, 2):
            assert _ids(kept.current(user_id).body) == [user_id * 1000 + n for n in range(user_id)]


def test_the_least_recently_used_lists_go_beyond_the_count() -> None:
    orders = _Orders()
    for user_id in range(1, 6):
        orders.shopper(user_id, 1)
    kept = EncodedOrderLists(orders, max_lists=3)  # type: ignore[arg-type]
    for user_id in (1, 2, 3):
        kept.current(user_id)
    kept.current(1)  # 1 is used again: 2 is now the least recent
    kept.current(4)
    assert len(kept) == 3
    orders.list_reads.clear()
    for user_id in (1, 3, 4):
        kept.current(user_id)
    assert orders.list_reads == []  # still kept
    kept.current(2)
    assert orders.list_reads == [2]  # was dropped


def test_the_kept_bodies_never_exceed_their_byte_budget() -> None:
    orders = _Orders()
    for user_id in range(1, 30):
        orders.shopper(user_id, user_id % 7 + 1)
    budget = 3000
    kept = EncodedOrderLists(orders, max_bytes=budget, max_list_bytes=budget)  # type: ignore[arg-type]
    sizes: dict[int, int] = {}
    for user_id in range(1, 30):
        sizes[user_id] = len(kept.current(user_id).body)
        assert kept.kept_bytes <= budget
    assert 0 < len(kept) < 29
    # The count of bytes is the kept bodies' sum: the most recent lists that fit.
    recent, total = [], 0
    for user_id in reversed(range(1, 30)):
        if total + sizes[user_id] > budget:
            break
        recent.append(user_id)
        total += sizes[user_id]
    assert kept.kept_bytes == total
    assert len(kept) == len(recent)


def test_a_list_too_large_to_keep_is_served_whole_and_read_again_next_time() -> None:
    orders = _Orders()
    orders.shopper(1, 40)
    orders.shopper(2, 1)
    kept = EncodedOrderLists(orders, max_list_bytes=2000)  # type: ignore[arg-type]
    assert len(_ids(kept.current(1).body)) == 40
    assert len(_ids(kept.current(1).body)) == 40
    kept.current(2)
    kept.current(2)
    assert orders.list_reads == [1, 1, 2]
    assert kept.kept_bytes == len(kept.current(2).body)


def test_a_list_that_grew_too_large_is_dropped_and_its_bytes_given_back() -> None:
    orders = _Orders()
    orders.shopper(1, 1)
    kept = EncodedOrderLists(orders, max_list_bytes=2000)  # type: ignore[arg-type]
    kept.current(1)
    assert kept.kept_bytes > 0
    orders.shopper(1, 40, version=2)
    assert len(_ids(kept.current(1).body)) == 40
    assert (len(kept), kept.kept_bytes) == (0, 0)
