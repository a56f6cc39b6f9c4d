"""GET /api/order/ with an ETag: 304 while the shopper's list is unchanged, never another's list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webtest import TestApp

from framesell.bootstrap import Shop
from framesell.domain.models import Product


def _buy(app: TestApp, shopper: dict[str, Any], product: Product) -> dict[str, Any]:
    answer = app.post_json(
        "/api/order/",
        {"token": "tok_visa", "product": product.id},
        headers=shopper["headers"],
        status=201,
    )
    order: dict[str, Any] = answer.json["order"]
    return order


def _with_etag(shopper: dict[str, Any], etag: str) -> dict[str, str]:
    return {**shopper["headers"], "If-None-Match": etag}


def test_an_unchanged_list_is_a_304_without_a_body_and_the_same_etag(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    order = _buy(app, shopper, add_product())
    first = app.get("/api/order/", headers=shopper["headers"], status=200)
    assert first.json == [order]
    assert first.headers["Cache-Control"] == "private, no-cache"
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    not_modified = app.get("/api/order/", headers=_with_etag(shopper, etag), status=304)
    assert not_modified.body == b""
    assert not_modified.headers["ETag"] == etag
    assert not_modified.headers["Cache-Control"] == "private, no-cache"
    again = app.get("/api/order/", headers=shopper["headers"], status=200)
    assert again.body == first.body
    assert again.headers["ETag"] == etag


def test_a_stale_or_weak_or_listed_etag_is_answered_as_its_match_says(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    _buy(app, shopper, add_product())
    etag = app.get("/api/order/", headers=shopper["headers"]).headers["ETag"]
    app.get("/api/order/", headers=_with_etag(shopper, '"0123456789abcdef"'), status=200)
    app.get("/api/order/", headers=_with_etag(shopper, f'"stale", {etag}'), status=304)
    app.get("/api/order/", headers=_with_etag(shopper, "*"), status=304)


def test_a_purchase_and_a_refund_each_change_the_list_and_its_etag(
    app: TestApp,
    shopper: dict[str, Any],
    admin: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    first = _buy(app, shopper, add_product("First"))
    before = app.get("/api/order/", headers=shopper["headers"])
    second = _buy(app, shopper, add_product("Second"))
    after_purchase = app.get("/api/order/", headers=_with_etag(shopper, before.etag), status=200)
    assert after_purchase.json == [first, second]
    assert after_purchase.etag != before.etag
    app.post(f"/api/order/{first['id']}/refund/", headers=admin["headers"], status=200)
    after_refund = app.get(
        "/api/order/", headers=_with_etag(shopper, after_purchase.etag), status=200
    )
    assert [o["paymentstatus"] for o in after_refund.json] == ["REFUNDED", "PAID"]
    assert after_refund.json[0]["refunded"] == first["total"]
    assert after_refund.etag not in (before.etag, after_purchase.etag)


def test_a_declined_purchase_shows_up_as_failed_at_once(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    empty = app.get("/api/order/", headers=shopper["headers"], status=200)
    assert empty.json == []
    app.post_json(
        "/api/order/",
        {"token": "tok_chargeDeclined", "product": product.id},
        headers=shopper["headers"],
        status=402,
    )
    listed = app.get("/api/order/", headers=_with_etag(shopper, empty.etag), status=200)
    assert [o["paymentstatus"] for o in listed.json] == ["FAILED"]


def test_each_shopper_gets_only_their_own_list_whatever_etag_they_send(
    app: TestApp, sign_up: Callable[..., dict[str, Any]], add_product: Callable[..., Product]
) -> None:
    alice, bob = sign_up("Alice", "A"), sign_up("Bob", "B")
    product = add_product()
    alices = _buy(app, alice, product)
    alices_list = app.get("/api/order/", headers=alice["headers"], status=200)
    # Bob, asked after Alice's list was kept, with Alice's ETag: his own (empty) list.
    bobs_list = app.get("/api/order/", headers=_with_etag(bob, alices_list.etag), status=200)
    assert bobs_list.json == []
    bobs = _buy(app, bob, product)
    bobs_list = app.get("/api/order/", headers=_with_etag(bob, alices_list.etag), status=200)
    assert bobs_list.json == [bobs]
    assert bobs_list.etag != alices_list.etag
    # Alice's kept list is still hers, and still current for her.
    app.get("/api/order/", headers=_with_etag(alice, alices_list.etag), status=304)
    assert app.get("/api/order/", headers=alice["headers"]).json == [alices]


def test_an_account_gone_since_its_list_was_kept_is_refused(
    app: TestApp, shop: Shop, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    _buy(app, shopper, add_product())
    etag = app.get("/api/order/", headers=shopper["headers"], status=200).etag
    store = shop.uow.store  # type: ignore[attr-defined]
    (user_id,) = [u.id for u in store.tables.users.values() if u.email == shopper["email"]]
    del store.tables.users[user_id]
    answer = app.get("/api/order/", headers=_with_etag(shopper, etag), status=403)
    assert "ETag" not in answer.headers
