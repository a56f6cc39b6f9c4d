"""Formats, carts, shipping addresses and paid downloads, on memory, SQLite and MariaDB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from webtest import TestApp

from framesell.adapters.memory import FixedClock
from framesell.bootstrap import Shop, bootstrap
from framesell.domain.models import Product
from framesell.entrypoints.http import make_app
from framesell.settings import Settings
from tests.api.conftest import SETTINGS

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main Street",
    "line2": "",
    "city": "Brooklyn",
    "postal_code": "11201",
    "country": "us",
}
FILE = "https://files.example.com/originals/bridge-full.tif"


@pytest.fixture
def clock() -> FixedClock:
    """The app's clock, moved by the tests that let links expire."""
    return FixedClock(datetime.now(UTC))


@pytest.fixture(params=["memory", "sqlite", "mysql"])
def app(request: pytest.FixtureRequest, clock: FixedClock) -> TestApp:
    """The whole app on each storage adapter, shipping at $9.00 per order."""
    settings = {**SETTINGS, "framesell.shipping.price": "9.00"}
    if request.param != "memory":
        url = request.getfixturevalue(f"{request.param}_url")
        settings |= {"framesell.storage": "sql", "framesell.database_url": url}
    shop = bootstrap(Settings.from_mapping(settings, environ={}), clock=clock)
    return TestApp(make_app(shop, settings))


def with_sizes(app: TestApp, admin: dict[str, Any], product: Product) -> list[dict[str, Any]]:
    """Add two print sizes to a product through the admin API; return them."""
    return [
        app.post_json(
            f"/api/product/{product.id}/formats/",
            {"label": label, "price": price},
            headers=admin["headers"],
            status=201,
        ).json
        for label, price in (("20x30 cm", "45"), ("50x75 cm", 99.5))
    ]


def cart(
    app: TestApp, shopper: dict[str, Any], body: dict[str, Any], status: int = 201, **headers: str
) -> Any:
    return app.post_json(
        "/api/order/",
        {"token": "tok_visa", **body},
        headers={**shopper["headers"], **headers},
        status=status,
    )


def test_the_catalog_lists_the_download_then_the_print_sizes_admins_manage(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    bridge = add_product("Bridge", "20")
    small, large = with_sizes(app, admin, bridge)
    assert small == {"id": small["id"], "kind": "print", "label": "20x30 cm", "price": 45}
    listed = app.get(f"/api/product/{bridge.id}/").json
    assert listed["price"] == 20  # the download's price, as 2017 clients read it
    assert listed["formats"] == [
        {"id": bridge.formats[0].id, "kind": "digital", "label": "Digital download", "price": 20},
        small,
        large,
    ]

    changed = app.put_json(
        f"/api/product/{bridge.id}/formats/{small['id']}/",
        {"label": "20x30", "price": "50"},
        headers=admin["headers"],
    ).json
    assert changed == {**small, "label": "20x30", "price": 50}
    app.delete(
        f"/api/product/{bridge.id}/formats/{large['id']}/", headers=admin["headers"], status=204
    )
    assert app.get("/api/product/").json[0]["formats"][1:] == [changed]

    # The download's price is the photo's: not changed or removed as a format.
    digital = bridge.formats[0].id
    app.put_json(
        f"/api/product/{bridge.id}/formats/{digital}/",
        {"label": "x", "price": 1},
        headers=admin["headers"],
        status=400,
    )
    app.delete(f"/api/product/{bridge.id}/formats/{digital}/", headers=admin["headers"], status=400)
    app.delete(
        f"/api/product/{bridge.id}/formats/{large['id']}/", headers=admin["headers"], status=404
    )
    app.post_json(
        f"/api/product/{bridge.id}/formats/",
        {"label": "A4", "price": 10},
        headers=shopper["headers"],
        status=403,
    )
    app.post_json(
        f"/api/product/{bridge.id}/formats/",
        {"label": " ", "price": 10},
        headers=admin["headers"],
        status=400,
    )
    app.post_json(
        f"/api/product/{bridge.id}/formats/",
        {"label": "A4", "price": "0.10"},
        headers=admin["headers"],
        status=400,
    )
    app.post_json(
        "/api/product/987654/formats/",
        {"label": "A4", "price": 10},
        headers=admin["headers"],
        status=404,
    )


def test_two_prints_in_two_sizes_and_a_download_are_one_order_and_one_payment(
    app: TestApp,
    shop: Shop,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    bridge = add_product("Bridge", "20")
    small, large = with_sizes(app, admin, bridge)
    body = {
        "items": [
            {"product": bridge.id, "format": small["id"], "quantity": 2},
            {"product": bridge.id, "format": large["id"]},
            {"product": bridge.id},
        ],
        "shipping": {**ADDRESS, "line2": "  Apt 2 "},
    }
    order = cart(app, shopper, body).json["order"]

    assert order["paymentstatus"] == "PAID"
    assert [(i["id"], i["format"], i["quantity"], i["price"]) for i in order["items"]] == [
        (1, {"id": small["id"], "kind": "print", "label": "20x30 cm"}, 2, 45),
        (2, {"id": large["id"], "kind": "print", "label": "50x75 cm"}, 1, 99.5),
        (3, {"id": bridge.formats[0].id, "kind": "digital", "label": "Digital download"}, 1, 20),
    ]
    assert order["shipping"] == {**ADDRESS, "line2": "Apt 2", "country": "US"}
    assert order["shipping_price"] == 9
    assert order["total"] == 2 * 45 + 99.5 + 20 + 9
    assert order["product"]["id"] == bridge.id  # the first line's photo, for old clients
    (charge,) = shop.gateway.charges_for_order(order["id"])
    assert charge.amount.cents == 21_850  # computed on the server, in cents
    assert app.get(f"/api/order/{order['id']}/", headers=shopper["headers"]).json == order
    assert app.get("/api/order/", headers=shopper["headers"]).json == [order]

    # What was paid stays on the order when the catalog changes.
    app.put_json(
        f"/api/product/{bridge.id}/formats/{small['id']}/",
        {"label": "Small", "price": 60},
        headers=admin["headers"],
    )
    again = app.get(f"/api/order/{order['id']}/", headers=shopper["headers"]).json
    assert again["items"][0]["price"] == 45 and again["total"] == order["total"]


def test_the_same_line_twice_is_added_up(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    bridge = add_product()
    small, _ = with_sizes(app, admin, bridge)
    line = {"product": bridge.id, "format": small["id"], "quantity": 2}
    order = cart(app, shopper, {"items": [line, line], "shipping": ADDRESS}).json["order"]
    assert [(i["quantity"], i["price"]) for i in order["items"]] == [(4, 45)]
    assert order["total"] == 4 * 45 + 9


def test_a_download_only_cart_has_no_address_and_no_shipping(
    app: TestApp,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    one, two = add_product("One", "10"), add_product("Two", "12.50")
    order = cart(
        app,
        shopper,
        {"items": [{"product": one.id}, {"product": two.id}], "shipping": ADDRESS},
    ).json["order"]
    assert (order["shipping"], order["shipping_price"], order["total"]) == (None, 0, 22.5)


def test_the_2017_request_buys_the_digital_download(
    app: TestApp,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    bridge = add_product("Bridge", "100")
    order = cart(app, shopper, {"product": bridge.id}).json["order"]
    (line,) = order["items"]
    assert (line["format"]["kind"], line["quantity"], line["price"]) == ("digital", 1, 100)
    assert (order["shipping"], order["total"], order["product"]["price"]) == (None, 100, 100)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"shipping": None}, "a shipping address is required for prints"),
        ({"shipping": {**ADDRESS, "country": "USA"}}, "must be a two-letter country code"),
        ({"shipping": {**ADDRESS, "city": "  "}}, "shipping city may not be blank"),
        (
            {"shipping": {k: v for k, v in ADDRESS.items() if k != "postal_code"}},
            "postal_code: Required",
        ),
        ({"quantity": 0}, "quantity"),
        ({"quantity": 100}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": "2"}, "quantity"),
        ({"format": 987654}, "this photo is not sold in that format"),
        ({"product": 987654}, "unknown product"),
    ],
)
def test_a_bad_cart_is_a_400_and_charges_nothing(
    app: TestApp,
    shop: Shop,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
    change: dict[str, Any],
    error: str,
) -> None:
    bridge = add_product()
    small, _ = with_sizes(app, admin, bridge)
    line = {"product": bridge.id, "format": small["id"], "quantity": 1}
    changes = dict(change)
    shipping = changes.pop("shipping", ADDRESS)
    body = {"items": [{**line, **changes}], "shipping": shipping}
    refused = cart(app, shopper, body, status=400).json
    assert refused["success"] is False
    assert error in refused["error"]
    assert app.get("/api/order/", headers=shopper["headers"]).json == []


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": None, "product": None},
        {"items": [{"format": 1}]},
        {"items": "1"},
    ],
)
def test_a_cart_needs_its_lines(
    app: TestApp,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
    body: dict[str, Any],
) -> None:
    assert cart(app, shopper, body, status=400).json["success"] is False


def test_a_download_is_bought_once_and_not_with_a_product_too(
    app: TestApp,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    bridge = add_product()
    twice = cart(app, shopper, {"items": [{"product": bridge.id, "quantity": 2}]}, status=400)
    assert twice.json["error"] == "a digital download is bought once"
    both = cart(app, shopper, {"product": bridge.id, "items": [{"product": bridge.id}]}, status=400)
    assert both.json["error"] == "send either product or items"


def test_a_cart_is_bought_once_per_idempotency_key(
    app: TestApp,
    shop: Shop,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    bridge = add_product()
    small, large = with_sizes(app, admin, bridge)
    body = {"items": [{"product": bridge.id, "format": small["id"]}], "shipping": ADDRESS}
    first = cart(app, shopper, body, **{"Idempotency-Key": "cart-1"})
    again = cart(app, shopper, body, **{"Idempotency-Key": "cart-1"})
    assert again.json == first.json
    assert len(shop.gateway.charges_for_order(first.json["order"]["id"])) == 1
    other = {**body, "items": [{"product": bridge.id, "format": large["id"]}]}
    cart(app, shopper, other, status=422, **{"Idempotency-Key": "cart-1"})


# --- downloads ------------------------------------------------------------------------------


def paid_download(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    product: Product,
    token: str = "tok_visa",
    status: int = 201,
) -> dict[str, Any]:
    app.put_json(f"/api/product/{product.id}/file/", {"file": FILE}, headers=admin["headers"])
    placed = app.post_json(
        "/api/order/",
        {"token": token, "items": [{"product": product.id}]},
        headers=shopper["headers"],
        status=status,
    )
    order: dict[str, Any] = placed.json["order"]
    return order


def test_a_paid_download_gives_a_signed_link_that_redirects_to_the_file(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    bridge = add_product()
    order = paid_download(app, admin, shopper, bridge)
    link = app.get(f"/api/order/{order['id']}/download/1/", headers=shopper["headers"]).json
    assert set(link) == {"url", "expires"}
    assert link["url"].startswith("/api/download/") and FILE not in link["url"]
    opened = app.get(link["url"], status=302)  # no token: the link is the credential
    assert opened.headers["Location"] == FILE
    assert opened.headers["Cache-Control"] == "no-store"


def test_the_file_is_never_shown_in_the_catalog_or_an_order(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    bridge = add_product()
    order = paid_download(app, admin, shopper, bridge)
    for path in (
        "/api/product/",
        f"/api/product/{bridge.id}/",
        "/api/order/",
        f"/api/order/{order['id']}/",
    ):
        assert FILE not in app.get(path, headers=shopper["headers"]).text
    app.get(f"/api/product/{bridge.id}/file/", headers=shopper["headers"], status=403)
    assert app.get(f"/api/product/{bridge.id}/file/", headers=admin["headers"]).json == {
        "id": bridge.id,
        "file": FILE,
    }


def test_unpaid_orders_get_no_link(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    declined = paid_download(app, admin, shopper, add_product(), "tok_chargeDeclined", 402)
    pending = paid_download(
        app, admin, shopper, add_product(), "pm_card_threeDSecure2Required", 402
    )
    for order in (declined, pending):
        refused = app.get(
            f"/api/order/{order['id']}/download/1/", headers=shopper["headers"], status=409
        )
        assert refused.json["errors"][0]["description"] == (
            "this order is not paid, so its files cannot be downloaded"
        )
        assert FILE not in refused.text


def test_only_the_buyer_gets_a_link_and_only_for_a_digital_line(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    sign_up: Callable[..., dict[str, Any]],
    add_product: Callable[..., Product],
) -> None:
    bridge = add_product()
    small, _ = with_sizes(app, admin, bridge)
    app.put_json(f"/api/product/{bridge.id}/file/", {"file": FILE}, headers=admin["headers"])
    order = cart(
        app,
        shopper,
        {
            "items": [{"product": bridge.id, "format": small["id"]}, {"product": bridge.id}],
            "shipping": ADDRESS,
        },
    ).json["order"]
    base = f"/api/order/{order['id']}/download"
    app.get(f"{base}/2/", headers=shopper["headers"], status=200)
    app.get(f"{base}/2/", headers=sign_up()["headers"], status=404)  # another shopper
    app.get(f"{base}/2/", status=403)
    app.get(f"{base}/1/", headers=shopper["headers"], status=404)  # a print
    app.get(f"{base}/3/", headers=shopper["headers"], status=404)
    app.get(f"{base}/x/", headers=shopper["headers"], status=404)


def test_a_photo_without_a_file_has_nothing_to_download_yet(
    app: TestApp,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    order = cart(app, shopper, {"product": add_product().id}).json["order"]
    app.get(f"/api/order/{order['id']}/download/1/", headers=shopper["headers"], status=404)


def test_a_link_expires_and_a_forged_one_is_refused(
    app: TestApp,
    clock: FixedClock,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    order = paid_download(app, admin, shopper, add_product())
    url = app.get(f"/api/order/{order['id']}/download/1/", headers=shopper["headers"]).json["url"]
    forged = url[:-3] + ("AAA" if not url.endswith("AAA/") else "BBB") + "/"
    app.get(forged, status=404)
    app.get(url.replace(f"/{order['id']}.", f"/{order['id'] + 1}."), status=404)
    app.get("/api/download/not-a-link/", status=404)
    clock.advance(timedelta(minutes=16))
    expired = app.get(url, status=404)
    assert "expired" in expired.json["errors"][0]["description"]


def test_a_full_refund_revokes_the_download_and_a_partial_one_does_not(
    app: TestApp,
    admin: dict[str, Any],
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    order = paid_download(app, admin, shopper, add_product("Bridge", "100"))
    link = f"/api/order/{order['id']}/download/1/"
    url = app.get(link, headers=shopper["headers"]).json["url"]
    app.post_json(f"/api/order/{order['id']}/refund/", {"amount": 10}, headers=admin["headers"])
    app.get(url, status=302)
    app.post(f"/api/order/{order['id']}/refund/", headers=admin["headers"])
    app.get(url, status=409)  # a link given out before the refund stops working
    app.get(link, headers=shopper["headers"], status=409)
