"""Idempotency-Key, POST /api/order/{id}/confirm/, refunds and the Stripe webhook (fake gateway)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp

from framesell.adapters.stripe_webhooks import sign
from framesell.bootstrap import Shop
from framesell.domain.errors import PaymentUnavailable
from framesell.domain.models import Product
from tests.api.conftest import WEBHOOK_SECRET
from tests.fixtures.events import intent_event


def buy(
    app: TestApp,
    shopper: dict[str, Any],
    product: Product,
    *,
    key: str | None = None,
    token: str = "tok_visa",
    status: int | str = "*",
) -> Any:
    headers = dict(shopper["headers"])
    if key is not None:
        headers["Idempotency-Key"] = key
    return app.post_json(
        "/api/order/", {"token": token, "product": product.id}, headers=headers, status=status
    )


def test_a_repeated_idempotency_key_replays_the_first_answer_and_buys_once(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    product = add_product()
    first = buy(app, shopper, product, key="buy-1", status=201)
    again = buy(app, shopper, product, key="buy-1", status=201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(app.get("/api/order/", headers=shopper["headers"]).json) == 1
    assert len(shop.gateway.charges_for_order(first.json["order"]["id"])) == 1


def test_a_replayed_decline_stays_a_decline(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    first = buy(app, shopper, product, key="d-1", token="tok_chargeDeclined", status=402)
    assert (
        buy(app, shopper, product, key="d-1", token="tok_chargeDeclined", status=402).json
        == first.json
    )


def test_the_same_key_with_another_body_is_422(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    first, second = add_product(), add_product()
    buy(app, shopper, first, key="k", status=201)
    response = buy(app, shopper, second, key="k", status=422)
    assert response.json == {
        "success": False,
        "error": "this Idempotency-Key was already used for a different request",
        "errors": response.json["errors"],
    }


def test_the_same_key_with_another_card_is_422_and_charges_nothing_more(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    # The fingerprint covers every field that changes the purchase: the card as well.
    product = add_product()
    first = buy(app, shopper, product, key="card-k", token="tok_visa", status=201).json
    refused = buy(app, shopper, product, key="card-k", token="tok_mastercard", status=422)
    assert refused.json["error"] == "this Idempotency-Key was already used for a different request"
    assert "Idempotent-Replayed" not in refused.headers
    assert len(shop.gateway.charges_for_order(first["order"]["id"])) == 1
    assert [o["id"] for o in app.get("/api/order/", headers=shopper["headers"]).json] == [
        first["order"]["id"]
    ]
    # The first request, repeated exactly, is still replayed.
    again = buy(app, shopper, product, key="card-k", token="tok_visa", status=201)
    assert (again.json, again.headers["Idempotent-Replayed"]) == (first, "true")


def test_the_same_key_with_a_declined_then_a_good_card_is_422_not_the_replayed_decline(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    buy(app, shopper, product, key="retry-card", token="tok_chargeDeclined", status=402)
    buy(app, shopper, product, key="retry-card", token="tok_visa", status=422)


def test_extra_client_fields_are_not_part_of_the_fingerprint(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    # What the shop ignores cannot make a repeat "different": it is replayed.
    product = add_product()
    headers = {**shopper["headers"], "Idempotency-Key": "extra-k"}
    body = {"token": "tok_visa", "product": product.id}
    first = app.post_json("/api/order/", body, headers=headers, status=201)
    again = app.post_json("/api/order/", {**body, "amount": 1}, headers=headers, status=201)
    assert (again.json, again.headers["Idempotent-Replayed"]) == (first.json, "true")


def test_keys_belong_to_one_user(
    app: TestApp, sign_up: Callable[..., dict[str, Any]], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    alice, bob = sign_up(), sign_up()
    a = buy(app, alice, product, key="shared", status=201).json["order"]
    b = buy(app, bob, product, key="shared", status=201).json["order"]
    assert a["id"] != b["id"] and a["user"] != b["user"]


def test_a_key_still_in_flight_is_409(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    product = add_product()
    user = shop.users.find_by_email(shopper["email"])
    assert user is not None and user.id is not None
    # Another process has claimed the key with this very request and not finished yet.
    from framesell.entrypoints.http.orders import _fingerprint

    class FakeRequest:
        path_info = "/api/order/"

    body = {"product": product.id, "token": "tok_visa"}
    shop.idempotency.begin(user.id, "busy", _fingerprint(FakeRequest(), body))  # type: ignore[arg-type]
    response = buy(app, shopper, product, key="busy", status=409)
    assert response.headers["Retry-After"] == "1"
    assert app.get("/api/order/", headers=shopper["headers"]).json == []


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey", "clé"])
def test_a_malformed_idempotency_key_is_400(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product], key: str
) -> None:
    response = app.post_json(
        "/api/order/",
        {"token": "tok_visa", "product": add_product().id},
        headers={**shopper["headers"], "Idempotency-Key": key.encode("utf-8").decode("latin-1")},
        status=400,
    )
    assert response.json["error"].startswith("Idempotency-Key must be")


def test_a_503_is_not_final_and_a_retry_with_the_key_pays_the_same_order_once(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    product = add_product()
    shop.gateway.fail_next_with(PaymentUnavailable, after_charging=True)
    first = buy(app, shopper, product, key="slow", status=503)
    assert first.json["order"]["paymentstatus"] == "PENDING"
    again = buy(app, shopper, product, key="slow", status=201)
    assert again.json["order"]["id"] == first.json["order"]["id"]
    assert again.json["order"]["paymentstatus"] == "PAID"
    assert len(shop.gateway.charges_for_order(first.json["order"]["id"])) == 1


def test_confirm_after_3d_secure_settles_the_order(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    awaiting_3d_secure: tuple[dict[str, Any], str],
) -> None:
    order, payment_id = awaiting_3d_secure
    path = f"/api/order/{order['id']}/confirm/"
    still = app.post(path, headers=shopper["headers"], status=402)
    assert still.json["requires_action"] is True
    shop.gateway.complete_authentication(payment_id, succeed=True)
    done = app.post(path, headers=shopper["headers"], status=200)
    assert done.json == {"success": True, "order": {**order, "paymentstatus": "PAID"}}


def test_a_failed_3d_secure_challenge_gives_402_failed(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    awaiting_3d_secure: tuple[dict[str, Any], str],
) -> None:
    order, payment_id = awaiting_3d_secure
    shop.gateway.complete_authentication(payment_id, succeed=False)
    failed = app.post(f"/api/order/{order['id']}/confirm/", headers=shopper["headers"], status=402)
    assert failed.json["order"]["paymentstatus"] == "FAILED"
    assert failed.json["success"] is False


def test_confirming_another_shoppers_order_is_404(
    app: TestApp, sign_up: Callable[..., dict[str, Any]], add_product: Callable[..., Product]
) -> None:
    alice, bob = sign_up(), sign_up()
    order = buy(app, alice, add_product(), status=201).json["order"]
    app.post(f"/api/order/{order['id']}/confirm/", headers=bob["headers"], status=404)


def test_an_admin_refund_gives_the_money_back_once(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    admin: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    order = buy(app, shopper, add_product("Bridge", "59.99"), status=201).json["order"]
    path = f"/api/order/{order['id']}/refund/"
    first = app.post(path, headers=admin["headers"], status=200)
    assert first.json == {
        "success": True,
        "order": {**order, "paymentstatus": "REFUNDED", "refunded": 59.99},
    }
    assert app.post(path, headers=admin["headers"], status=200).json == first.json
    (payment,) = shop.gateway.payments_for_order(order["id"])
    assert shop.gateway.refunded_cents(payment.id) == 5999


def test_only_admins_refund_and_only_paid_orders(
    app: TestApp,
    shopper: dict[str, Any],
    admin: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    order = buy(app, shopper, add_product(), status=201).json["order"]
    denied = app.post(f"/api/order/{order['id']}/refund/", headers=shopper["headers"], status=403)
    assert denied.json == {"detail": "you do not have permission to perform this action"}
    declined = buy(app, shopper, add_product(), token="tok_chargeDeclined", status=402)
    app.post(
        f"/api/order/{declined.json['order']['id']}/refund/", headers=admin["headers"], status=409
    )
    app.post("/api/order/99999/refund/", headers=admin["headers"], status=404)


def webhook(
    app: TestApp,
    payload: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    age: int = 0,
    status: int | str = "*",
) -> Any:
    body = json.dumps(payload).encode()
    signature = sign(body, secret, int(time.time()) - age)
    return app.post(
        "/api/webhooks/stripe/",
        body,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
        status=status,
    )


def test_a_signed_success_event_pays_once_and_a_duplicate_is_a_harmless_200(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    awaiting_3d_secure: tuple[dict[str, Any], str],
) -> None:
    order, payment_id = awaiting_3d_secure
    order_id = order["id"]
    shop.gateway.complete_authentication(payment_id)  # what the event reports
    event = intent_event("evt_ok", "payment_intent.succeeded", payment_id, order_id)
    assert webhook(app, event, status=200).json == {"received": True, "applied": True}
    assert webhook(app, event, status=200).json == {"received": True, "applied": False}
    shown = app.get(f"/api/order/{order_id}/", headers=shopper["headers"]).json
    assert shown["paymentstatus"] == "PAID"


@pytest.mark.parametrize(("secret", "age"), [("whsec_wrong", 0), (WEBHOOK_SECRET, 301)])
def test_a_badly_signed_or_old_event_is_400_and_changes_nothing(
    app: TestApp,
    shopper: dict[str, Any],
    awaiting_3d_secure: tuple[dict[str, Any], str],
    secret: str,
    age: int,
) -> None:
    order, payment_id = awaiting_3d_secure
    order_id = order["id"]
    event = intent_event("evt_bad", "payment_intent.succeeded", payment_id, order_id)
    response = webhook(app, event, secret=secret, age=age, status=400)
    assert response.json["status"] == "error"
    assert (
        app.get(f"/api/order/{order_id}/", headers=shopper["headers"]).json["paymentstatus"]
        == "PENDING"
    )


def test_a_webhook_without_signature_or_with_garbage_is_400(app: TestApp) -> None:
    app.post("/api/webhooks/stripe/", b"{}", content_type="application/json", status=400)
    app.post(
        "/api/webhooks/stripe/",
        b"\xff",
        headers={"Stripe-Signature": "t=1,v1=00"},
        content_type="application/json",
        status=400,
    )


def test_event_types_the_shop_ignores_get_200(app: TestApp) -> None:
    event = {"id": "evt_c", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    assert webhook(app, event, status=200).json == {"received": True, "applied": False}
