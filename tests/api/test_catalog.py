"""GET /api/product/ and GET /api/product/{id}/."""

from __future__ import annotations

from collections.abc import Callable

from webtest import TestApp

from framesell.domain.models import Product


def test_the_catalog_lists_products_by_id_with_prices_in_dollars(
    app: TestApp, add_product: Callable[..., Product]
) -> None:
    bridge = add_product("Brooklyn Bridge", "100")
    parrot = add_product("Parrot", "59.99")
    response = app.get("/api/product/", status=200)
    assert response.content_type == "application/json"
    assert response.json == [
        {
            "id": bridge.id,
            "price": 100,
            "description": "Brooklyn Bridge",
            "url": bridge.url,
            "currency": "usd",
            # Every photo is sold as its digital download, at the price the original showed.
            "formats": [
                {"id": bridge.formats[0].id, "kind": "digital", "label": "Digital download",
                 "price": 100},
            ],
        },
        {
            "id": parrot.id,
            "price": 59.99,
            "description": "Parrot",
            "url": parrot.url,
            "currency": "usd",
            "formats": [
                {"id": parrot.formats[0].id, "kind": "digital", "label": "Digital download",
                 "price": 59.99},
            ],
        },
    ]
    # The exact decimal text, not a binary-float neighbour of it.
    assert b'"price":59.99' in response.body


def test_the_catalog_needs_no_token_and_works_without_the_trailing_slash(
    app: TestApp, add_product: Callable[..., Product]
) -> None:
    add_product()
    assert app.get("/api/product", status=200).json == app.get("/api/product/").json


def test_a_withdrawn_product_leaves_the_catalog(
    app: TestApp, add_product: Callable[..., Product], shop: object
) -> None:
    kept = add_product("Kept")
    gone = add_product("Gone")
    with app.app.registry.framesell_shop.uow() as uow:
        uow.products.update(Product(gone.id, gone.description, gone.url, gone.price, active=False))
        uow.commit()
    assert [p["id"] for p in app.get("/api/product/").json] == [kept.id]
    app.get(f"/api/product/{gone.id}/", status=404)


def test_one_product_by_id(app: TestApp, add_product: Callable[..., Product]) -> None:
    parrot = add_product("Parrot", "59.99")
    response = app.get(f"/api/product/{parrot.id}/", status=200)
    assert response.json == {
        "id": parrot.id,
        "price": 59.99,
        "description": "Parrot",
        "url": parrot.url,
        "currency": "usd",
        "formats": [
            {"id": parrot.formats[0].id, "kind": "digital", "label": "Digital download",
             "price": 59.99},
        ],
    }


def test_an_unknown_or_non_numeric_product_id_is_a_404(app: TestApp) -> None:
    for path in ("/api/product/999999/", "/api/product/abc/", "/api/product/-1/"):
        response = app.get(path, status=404)
        assert response.json["status"] == "error"


def test_a_matching_etag_gets_304_and_a_changed_catalog_a_new_etag(
    app: TestApp, add_product: Callable[..., Product]
) -> None:
    add_product()
    first = app.get("/api/product/", status=200)
    etag = first.headers["ETag"]
    not_modified = app.get("/api/product/", headers={"If-None-Match": etag}, status=304)
    assert not_modified.body == b""
    add_product("Another")
    changed = app.get("/api/product/", headers={"If-None-Match": etag}, status=200)
    assert changed.headers["ETag"] != etag
    assert len(changed.json) == 2
