"""POST /api/product/, PUT and DELETE /api/product/{id}/: admins manage the catalog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp

from framesell.domain.models import Product

PARROT = {"description": "Parrot", "url": "https://photos.example.com/parrot.jpg", "price": 59.99}


def test_an_admin_adds_a_product_with_an_exact_price(app: TestApp, admin: dict[str, Any]) -> None:
    response = app.post_json("/api/product/", PARROT, headers=admin["headers"], status=201)
    (digital,) = response.json["formats"]
    assert response.json == {
        **PARROT,
        "id": response.json["id"],
        "currency": "usd",
        "formats": [
            {"id": digital["id"], "kind": "digital", "label": "Digital download", "price": 59.99}
        ],
    }
    assert app.get("/api/product/").json == [response.json]
    assert (
        app.app.registry.framesell_shop.catalog.product_for_sale(
            response.json["id"]
        ).price.cents
        == 5999
    )


def test_prices_may_be_strings_or_whole_numbers(app: TestApp, admin: dict[str, Any]) -> None:
    for price, cents in (("19.90", 1990), (100, 10000), ("0.50", 50)):
        body = {**PARROT, "price": price}
        created = app.post_json("/api/product/", body, headers=admin["headers"], status=201).json
        stored = app.app.registry.framesell_shop.catalog.product_for_sale(created["id"])
        assert stored.price.cents == cents


@pytest.mark.parametrize("price", ["0.49", 0.01, "0.2"])
def test_a_price_below_stripes_minimum_charge_is_400(
    app: TestApp, admin: dict[str, Any], add_product: Callable[..., Product], price: Any
) -> None:
    refused = app.post_json(
        "/api/product/", {**PARROT, "price": price}, headers=admin["headers"], status=400
    ).json
    assert refused == {
        "status": "error",
        "errors": [
            {
                "location": "body",
                "name": "price",
                "description": "a price must be at least 0.50 USD, the smallest amount a card"
                " can be charged",
            }
        ],
    }
    product = add_product()
    app.put_json(
        f"/api/product/{product.id}/", {**PARROT, "price": price}, headers=admin["headers"],
        status=400,
    )
    assert app.get("/api/product/").json[0]["price"] == product.price.cents / 100


def test_shoppers_and_strangers_may_not_touch_the_catalog(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    for headers in (shopper["headers"], {}):
        app.post_json("/api/product/", PARROT, headers=headers, status=403)
        app.put_json(f"/api/product/{product.id}/", PARROT, headers=headers, status=403)
        app.delete(f"/api/product/{product.id}/", headers=headers, status=403)
    assert len(app.get("/api/product/").json) == 1


@pytest.mark.parametrize(
    ("change", "field", "description"),
    [
        ({"price": "1.001"}, "price", "must be a positive amount with at most two decimals"),
        ({"price": -5}, "price", "must be a positive amount with at most two decimals"),
        ({"price": 0}, "price", "must be greater than zero"),
        ({"price": "abc"}, "price", "must be a positive amount with at most two decimals"),
        ({"price": True}, "price", "must be a number of dollars, e.g. 59.99"),
        ({"price": None}, "price", "Required"),
        ({"url": "http://photos.example.com/p.jpg"}, "url", "must be an https:// address"),
        ({"url": "javascript:alert(1)"}, "url", "must be an https:// address"),
        ({"description": "   "}, "description", "may not be blank"),
        ({"description": ""}, "description", "Required"),
        ({"description": "x" * 501}, "description", "Longer than maximum length 500"),
        ({"currency": "eur"}, "currency", "\"eur\" is not one of usd"),
    ],
)
def test_bad_products_get_400_with_colander_errors(
    app: TestApp, admin: dict[str, Any], change: dict[str, Any], field: str, description: str
) -> None:
    response = app.post_json(
        "/api/product/", {**PARROT, **change}, headers=admin["headers"], status=400
    )
    assert response.json["status"] == "error"
    (error,) = response.json["errors"]
    assert (error["location"], error["name"]) == ("body", field)
    assert error["description"].startswith(description)
    assert app.get("/api/product/").json == []


def test_an_admin_changes_a_product_and_past_orders_keep_their_price(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    product = add_product("Bridge", "100")
    app.post_json(
        "/api/order/",
        {"token": "tok_visa", "product": product.id},
        headers=shopper["headers"],
        status=201,
    )
    changed = app.put_json(
        f"/api/product/{product.id}/",
        {**PARROT, "price": "120.50"},
        headers=admin["headers"],
        status=200,
    ).json
    assert changed == {
        **PARROT,
        "id": product.id,
        "price": 120.5,
        "currency": "usd",
        # The digital download's price moves with the product's.
        "formats": [
            {"id": product.formats[0].id, "kind": "digital", "label": "Digital download",
             "price": 120.5}
        ],
    }
    (order,) = app.get("/api/order/", headers=shopper["headers"]).json
    assert (order["product"]["description"], order["product"]["price"]) == ("Bridge", 100)


def test_deleting_a_product_with_orders_hides_it_and_keeps_the_orders(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    product = add_product("Bridge", "100")
    bought = app.post_json(
        "/api/order/",
        {"token": "tok_visa", "product": product.id},
        headers=shopper["headers"],
        status=201,
    ).json["order"]
    app.delete(f"/api/product/{product.id}/", headers=admin["headers"], status=204)
    assert app.get("/api/product/").json == []
    app.get(f"/api/product/{product.id}/", status=404)
    assert app.get("/api/order/", headers=shopper["headers"]).json == [bought]
    refused = app.post_json(
        "/api/order/",
        {"token": "tok_visa", "product": product.id},
        headers=shopper["headers"],
        status=400,
    )
    assert refused.json["error"] == "unknown product"
    app.delete(f"/api/product/{product.id}/", headers=admin["headers"], status=404)


def test_unknown_products_are_404_for_admins(app: TestApp, admin: dict[str, Any]) -> None:
    app.put_json("/api/product/424242/", PARROT, headers=admin["headers"], status=404)
    app.delete("/api/product/424242/", headers=admin["headers"], status=404)
    app.delete("/api/product/abc/", headers=admin["headers"], status=404)
