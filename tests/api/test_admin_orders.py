"""GET /api/admin/orders/: every shopper's orders for the owner, filtered, searched, paged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webtest import TestApp

from framesell.domain.models import Product


def _buy(app: TestApp, shopper: dict[str, Any], product: Product, token: str = "tok_visa") -> Any:
    return app.post_json(
        "/api/order/",
        {"token": token, "product": product.id},
        headers=shopper["headers"],
        status=[201, 402],
    ).json["order"]


def test_the_owner_sees_every_shoppers_orders_newest_first_with_email_and_payment(
    app: TestApp,
    admin: dict[str, Any],
    sign_up: Callable[..., dict[str, Any]],
    add_product: Callable[..., Product],
) -> None:
    ada, bob = sign_up(), sign_up()
    product = add_product("Alpine Lake", "75")
    first = _buy(app, ada, product)
    second = _buy(app, bob, product, "tok_chargeDeclined")

    listed = app.get("/api/admin/orders/", headers=admin["headers"], status=200).json

    assert [o["id"] for o in listed["orders"]] == [second["id"], first["id"]]
    assert (listed["total"], listed["page"], listed["per_page"]) == (2, 1, 20)
    newest, oldest = listed["orders"]
    assert newest == {
        **second,
        "email": bob["email"],
        "payment_id": newest["payment_id"],
        "dispute": None,
    }
    assert oldest["email"] == ada["email"]
    assert oldest["paymentstatus"] == "PAID"
    assert oldest["payment_id"].startswith("pi_")


def test_the_owner_filters_by_status_and_searches_by_order_id_or_email_start(
    app: TestApp,
    admin: dict[str, Any],
    sign_up: Callable[..., dict[str, Any]],
    add_product: Callable[..., Product],
) -> None:
    ada, bob = sign_up(), sign_up()
    product = add_product()
    paid = _buy(app, ada, product)
    declined = _buy(app, ada, product, "tok_chargeDeclined")
    bobs = _buy(app, bob, product)

    def ids(**params: str) -> list[int]:
        found = app.get("/api/admin/orders/", params, headers=admin["headers"], status=200)
        return [o["id"] for o in found.json["orders"]]

    assert ids(status="PAID") == [bobs["id"], paid["id"]]
    assert ids(status="failed") == [declined["id"]]
    assert ids(q=str(paid["id"])) == [paid["id"]]
    assert ids(q=f"#{bobs['id']}") == [bobs["id"]]
    assert ids(q=ada["email"].upper()) == [declined["id"], paid["id"]]
    assert ids(q=ada["email"][:-4]) == [declined["id"], paid["id"]]
    assert ids(q=ada["email"], status="PAID") == [paid["id"]]
    assert ids(q="nobody@example.com") == []
    assert ids(q="999999") == []


def test_the_owner_pages_through_the_orders(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    product = add_product()
    bought = [_buy(app, shopper, product)["id"] for _ in range(5)]

    pages = [
        app.get(
            "/api/admin/orders/", {"per_page": "2", "page": str(page)}, headers=admin["headers"]
        ).json
        for page in (1, 2, 3, 4)
    ]

    assert [[o["id"] for o in p["orders"]] for p in pages] == [
        bought[4:2:-1], bought[2:0:-1], bought[:1], []
    ]
    assert {(p["total"], p["per_page"]) for p in pages} == {(5, 2)}
    assert [p["page"] for p in pages] == [1, 2, 3, 4]


def test_unusable_search_values_are_400_with_the_field(
    app: TestApp, admin: dict[str, Any]
) -> None:
    for params, field in [
        ({"status": "SHIPPED"}, "status"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "-1"}, "per_page"),
        ({"q": "x" * 255}, "q"),
    ]:
        answer = app.get("/api/admin/orders/", params, headers=admin["headers"], status=400)
        assert answer.json["status"] == "error", params
        assert [e["name"] for e in answer.json["errors"]] == [field], params


def test_only_an_admin_lists_every_order(app: TestApp, shopper: dict[str, Any]) -> None:
    app.get("/api/admin/orders/", status=403)
    refused = app.get("/api/admin/orders/", headers=shopper["headers"], status=403)
    assert refused.json == {"detail": "you do not have permission to perform this action"}
