"""GET and POST /api/order/, GET /api/order/{id}/, and the 403s of every token failure."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from webtest import TestApp

from framesell.adapters.jwt import JwtTokenService
from framesell.adapters.memory import FixedClock
from framesell.bootstrap import Services
from framesell.domain.errors import PaymentUnavailable
from framesell.domain.models import Product
from tests.api.conftest import JWT_SECRET

ISO_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"


def buy(
    app: TestApp,
    shopper: dict[str, Any],
    product: Product,
    token: str = "tok_visa",
    status: int | str = 201,
) -> Any:
    return app.post_json(
        "/api/order/",
        {"token": token, "product": product.id},
        headers=shopper["headers"],
        status=status,
    )


def test_buying_charges_the_card_and_answers_201_with_the_paid_order(
    app: TestApp, services: Services, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    parrot = add_product("Parrot", "59.99")
    response = buy(app, shopper, parrot)
    order = response.json["order"]
    assert response.json == {
        "success": True,
        "order": {
            "id": order["id"],
            "user": order["user"],
            "orderdate": order["orderdate"],
            "paymentstatus": "PAID",
            "product": {
                "id": parrot.id,
                "price": 59.99,
                "description": "Parrot",
                "url": parrot.url,
                "currency": "usd",
            },
            "refunded": 0,
            # The original's purchase is one line: the photo's digital download.
            "items": [
                {
                    "id": 1,
                    "product": {
                        "id": parrot.id,
                        "price": 59.99,
                        "description": "Parrot",
                        "url": parrot.url,
                        "currency": "usd",
                    },
                    "format": {
                        "id": parrot.formats[0].id,
                        "kind": "digital",
                        "label": "Digital download",
                    },
                    "quantity": 1,
                    "price": 59.99,
                }
            ],
            "shipping": None,
            "shipping_price": 0,
            "total": 59.99,
        },
    }
    placed = datetime.strptime(order["orderdate"], ISO_UTC).replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - placed) < timedelta(minutes=1)
    (charge,) = services.gateway.charges_for_order(order["id"])
    assert charge.amount.cents == 5999
    assert charge.order_id == order["id"]


def test_the_product_may_be_a_numeric_string(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    response = app.post_json(
        "/api/order",
        {"token": "pm_card_visa", "product": f"{product.id}"},
        headers=shopper["headers"],
        status=201,
    )
    assert response.json["order"]["product"]["id"] == product.id


def test_a_declined_card_gives_402_and_keeps_a_failed_order_that_is_listed(
    app: TestApp, services: Services, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    response = buy(app, shopper, product, token="tok_chargeDeclined", status=402)
    order = response.json["order"]
    assert response.json == {"success": False, "error": "Your card was declined.", "order": order}
    assert order["paymentstatus"] == "FAILED"
    assert services.gateway.charges_for_order(order["id"]) == []
    listed = app.get("/api/order/", headers=shopper["headers"]).json
    assert listed == [order]


def test_an_unreachable_payment_service_gives_503_and_a_pending_order(
    app: TestApp, services: Services, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    services.gateway.fail_next_with(PaymentUnavailable)
    response = buy(app, shopper, product, status=503)
    assert response.json == {
        "success": False,
        "error": "payment service unavailable",
        "order": response.json["order"],
    }
    assert response.json["order"]["paymentstatus"] == "PENDING"


def test_a_3d_secure_card_gives_402_with_a_client_secret_and_a_pending_order(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    response = buy(app, shopper, product, token="pm_card_threeDSecure2Required", status=402)
    assert response.json["success"] is False
    assert response.json["requires_action"] is True
    assert response.json["client_secret"]
    assert response.json["order"]["paymentstatus"] == "PENDING"


def test_orders_list_only_the_callers_own_oldest_first(
    app: TestApp, sign_up: Callable[..., dict[str, Any]], add_product: Callable[..., Product]
) -> None:
    alice, bob = sign_up("Alice", "A"), sign_up("Bob", "B")
    first, second = add_product("First"), add_product("Second")
    a1 = buy(app, alice, first).json["order"]
    buy(app, bob, first)
    a2 = buy(app, alice, second).json["order"]
    assert app.get("/api/order/", headers=alice["headers"]).json == [a1, a2]
    assert a1["user"] == a2["user"]


def test_an_order_keeps_the_price_paid_after_the_catalog_changes(
    app: TestApp, services: Services, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product("Bridge", "100")
    buy(app, shopper, product)
    from dataclasses import replace

    from framesell.domain.money import Money

    with services.uow() as uow:
        uow.products.update(replace(product, price=Money(25000), description="Renamed"))
        uow.commit()
    (order,) = app.get("/api/order/", headers=shopper["headers"]).json
    assert order["product"]["price"] == 100
    assert order["product"]["description"] == "Bridge"
    assert app.get(f"/api/product/{product.id}/").json["price"] == 250


def test_one_order_by_id_and_another_shoppers_is_a_404(
    app: TestApp, sign_up: Callable[..., dict[str, Any]], add_product: Callable[..., Product]
) -> None:
    alice, bob = sign_up(), sign_up()
    order = buy(app, alice, add_product()).json["order"]
    assert app.get(f"/api/order/{order['id']}/", headers=alice["headers"]).json == order
    app.get(f"/api/order/{order['id']}/", headers=bob["headers"], status=404)
    app.get("/api/order/99999999/", headers=alice["headers"], status=404)
    app.get("/api/order/x/", headers=alice["headers"], status=404)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"product": 1}, "token: Required"),
        ({"token": "tok_visa"}, "product: Required"),
        ({"token": None, "product": None}, "token: Required; product: Required"),
        ({"token": 12, "product": 1}, "token: must be a string"),
        (
            {"token": "visa", "product": 1},
            "token: must be a Stripe card token (tok_…), "
            "PaymentMethod (pm_…) or ConfirmationToken (ctoken_…)",
        ),
        (
            {"token": "tok_visa", "product": "abc"},
            "product: must be a product id (a positive integer)",
        ),
        (
            {"token": "tok_visa", "product": 1.5},
            "product: must be a product id (a positive integer)",
        ),
        (
            {"token": "tok_visa", "product": True},
            "product: must be a product id (a positive integer)",
        ),
        (
            {"token": "tok_visa", "product": [1]},
            "product: must be a product id (a positive integer)",
        ),
        ({"token": "tok_visa", "product": 0}, "product: must be a product id (a positive integer)"),
        ({"token": "tok_visa", "product": 987654}, "unknown product"),
    ],
)
def test_bad_order_requests_get_400_with_a_message(
    app: TestApp, shopper: dict[str, Any], body: dict[str, Any], error: str
) -> None:
    response = app.post_json("/api/order/", body, headers=shopper["headers"], status=400)
    assert response.json["success"] is False
    assert response.json["error"] == error
    assert app.get("/api/order/", headers=shopper["headers"]).json == []


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{not json", "Invalid JSON"),
        (b"[1, 2]", "the request body must be a JSON object"),
        (b'"tok_visa"', "the request body must be a JSON object"),
        (b"\xff\xfe", "Invalid JSON"),
    ],
)
def test_malformed_order_bodies_get_400(
    app: TestApp, shopper: dict[str, Any], raw: bytes, error: str
) -> None:
    response = app.post(
        "/api/order/", raw, content_type="application/json", headers=shopper["headers"], status=400
    )
    assert response.json["success"] is False
    assert response.json["error"].startswith(error)


def test_a_body_over_64_kib_is_refused_with_413(app: TestApp, shopper: dict[str, Any]) -> None:
    huge = {"token": "tok_visa", "product": 1, "padding": "x" * 70_000}
    response = app.post_json("/api/order/", huge, headers=shopper["headers"], status=413)
    assert "larger than 65536 bytes" in response.json["errors"][0]["description"]


def test_both_jwt_and_bearer_schemes_are_accepted(app: TestApp, shopper: dict[str, Any]) -> None:
    token = shopper["token"]
    for header in (f"JWT {token}", f"Bearer {token}", f"bearer {token}"):
        assert app.get("/api/order/", headers={"Authorization": header}, status=200).json == []


def forged_tokens(valid: str) -> dict[str, str]:
    claims = jwt.decode(valid, JWT_SECRET, algorithms=["HS256"])
    header, _payload, signature = valid.split(".")
    edited = jwt.encode(
        {**claims, "sub": str(int(claims["sub"]) + 1000)}, "x" * 40, algorithm="HS256"
    ).split(".")[1]
    return {
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "another key": jwt.encode(
            claims, "another-secret-of-enough-length-123456", algorithm="HS256"
        ),
        "another algorithm": jwt.encode(claims, JWT_SECRET, algorithm="HS512"),
        "edited payload": f"{header}.{edited}.{signature}",
        "garbage": "not.a.token",
    }


@pytest.mark.parametrize(
    "case", ["alg none", "another key", "another algorithm", "edited payload", "garbage"]
)
def test_a_forged_token_is_forbidden(app: TestApp, shopper: dict[str, Any], case: str) -> None:
    token = forged_tokens(shopper["token"])[case]
    for method in (app.get, app.post_json):
        response = method("/api/order/", headers={"Authorization": f"JWT {token}"}, status=403)
        assert response.json == {"detail": "Error decoding signature."}


def test_an_expired_token_is_forbidden(
    app: TestApp, services: Services, shopper: dict[str, Any]
) -> None:
    user = services.users.find_by_email(shopper["email"])
    assert user is not None
    past = FixedClock(datetime.now(UTC) - timedelta(hours=2))
    expired = JwtTokenService(JWT_SECRET, past, timedelta(hours=1)).issue(user)
    response = app.get("/api/order/", headers={"Authorization": f"JWT {expired}"}, status=403)
    assert response.json == {"detail": "Signature has expired."}


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Basic dXNlcjpwYXNz", "Authentication credentials were not provided."),
        ("JWT", "Invalid Authorization header. No credentials provided."),
        ("JWT a b", "Invalid Authorization header. Credentials string should not contain spaces."),
    ],
)
def test_missing_and_malformed_authorization_headers_are_forbidden(
    app: TestApp, header: str | None, detail: str
) -> None:
    headers = {"Authorization": header} if header else {}
    for method in (app.get, app.post_json):
        response = method("/api/order/", headers=headers, status=403)
        assert response.json == {"detail": detail}


def test_a_token_for_a_deleted_or_unknown_user_is_forbidden(app: TestApp) -> None:
    now = int(time.time())
    token = jwt.encode(
        {"sub": "424242", "email": "ghost@example.com", "iat": now, "exp": now + 60},
        JWT_SECRET,
        algorithm="HS256",
    )
    response = app.get("/api/order/", headers={"Authorization": f"JWT {token}"}, status=403)
    assert response.json == {"detail": "user not found"}
