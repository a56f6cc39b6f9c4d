"""GET and POST /api/order/, GET /api/order/{id}/, and the 403s of every token failure."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from webtest import TestApp, TestRequest

from framesell.adapters.jwt import JwtTokenService
from framesell.adapters.memory import FixedClock
from framesell.bootstrap import Shop
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
    app: TestApp, shop: Shop, shopper: dict[str, Any], add_product: Callable[..., Product]
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
    (charge,) = shop.gateway.charges_for_order(order["id"])
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
    app: TestApp, shop: Shop, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    response = buy(app, shopper, product, token="tok_chargeDeclined", status=402)
    order = response.json["order"]
    assert response.json == {"success": False, "error": "Your card was declined.", "order": order}
    assert order["paymentstatus"] == "FAILED"
    assert shop.gateway.charges_for_order(order["id"]) == []
    listed = app.get("/api/order/", headers=shopper["headers"]).json
    assert listed == [order]


def test_an_unreachable_payment_service_gives_503_and_a_pending_order(
    app: TestApp, shop: Shop, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    shop.gateway.fail_next_with(PaymentUnavailable)
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
    app: TestApp, shop: Shop, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product("Bridge", "100")
    buy(app, shopper, product)
    from dataclasses import replace

    from framesell.domain.money import Money

    with shop.uow() as uow:
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


# Fields a client might add to try its luck: none of them changes what is charged or stored.
EXTRA_FIELDS: list[dict[str, Any]] = [
    {"amount": 0.01},
    {"amount": 1},
    {"price": 0.01},
    {"price": "0.01"},
    {"currency": "jpy"},
    {"amount": 1, "price": 1, "currency": "jpy"},
    {"paymentstatus": "PAID", "refunded": 100, "id": 1},
]


@pytest.mark.parametrize("extra", EXTRA_FIELDS, ids=lambda extra: ",".join(extra))
def test_client_sent_prices_and_currencies_never_change_what_is_charged_or_stored(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
    extra: dict[str, Any],
) -> None:
    photo = add_product("Hundred-dollar photo", "100")
    body = {**extra, "token": "tok_visa", "product": photo.id}
    answer = app.post_json("/api/order/", body, headers=shopper["headers"], status=201).json
    order = answer["order"]
    assert (order["paymentstatus"], order["refunded"]) == ("PAID", 0)
    assert order["product"] == {
        "id": photo.id,
        "price": 100,
        "description": "Hundred-dollar photo",
        "url": photo.url,
        "currency": "usd",
    }
    (charge,) = shop.gateway.charges_for_order(order["id"])
    assert (charge.amount.cents, charge.amount.currency) == (10_000, "usd")
    stored = shop.orders.get_order(order["user"], order["id"])
    assert (stored.amount.cents, stored.amount.currency) == (10_000, "usd")
    (listed,) = app.get("/api/order/", headers=shopper["headers"]).json
    assert listed == order


def test_a_client_sent_user_never_buys_for_or_as_another_shopper(
    app: TestApp,
    shop: Shop,
    sign_up: Callable[..., dict[str, Any]],
    add_product: Callable[..., Product],
) -> None:
    buyer, victim = sign_up(), sign_up()
    victim_user = shop.users.find_by_email(victim["email"])
    buyer_user = shop.users.find_by_email(buyer["email"])
    assert victim_user is not None and buyer_user is not None
    photo = add_product()
    body = {"token": "tok_visa", "product": photo.id, "user": victim_user.id}
    order = app.post_json("/api/order/", body, headers=buyer["headers"], status=201).json["order"]
    assert order["user"] == buyer_user.id != victim_user.id
    assert app.get("/api/order/", headers=victim["headers"]).json == []
    assert [o["id"] for o in app.get("/api/order/", headers=buyer["headers"]).json] == [order["id"]]


def _order_body_of_size(size: int, product_id: int) -> bytes:
    """A valid order body padded with JSON whitespace to exactly ``size`` bytes."""
    body = json.dumps({"token": "tok_visa", "product": product_id}).encode()
    padded = body[:-1] + b" " * (size - len(body)) + b"}"
    assert len(padded) == size
    return padded


def test_a_body_of_exactly_64_kib_is_read_and_one_byte_more_is_413(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    photo = add_product()
    limit = 64 * 1024
    at_limit = _order_body_of_size(limit, photo.id)
    placed = app.post(
        "/api/order/",
        at_limit,
        content_type="application/json",
        headers=shopper["headers"],
        status=201,
    )
    assert placed.json["order"]["paymentstatus"] == "PAID"
    over = app.post(
        "/api/order/",
        _order_body_of_size(limit + 1, photo.id),
        content_type="application/json",
        headers=shopper["headers"],
        status=413,
    )
    assert over.json == {
        "status": "error",
        "errors": [
            {"location": "body", "name": "", "description": "request body larger than 65536 bytes"}
        ],
    }
    assert len(app.get("/api/order/", headers=shopper["headers"]).json) == 1


def _streamed(
    app: TestApp, shopper: dict[str, Any], body: bytes, method: str = "POST", path: str = ""
) -> Any:
    """Send a body without Content-Length, as a chunked request reaches the WSGI app."""
    request = TestRequest.blank(
        path or "/api/order/",
        method=method,
        headers={**shopper["headers"], "Content-Type": "application/json"},
    )
    request.environ.pop("CONTENT_LENGTH", None)
    request.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    request.environ["wsgi.input"] = io.BytesIO(body)
    request.environ["wsgi.input_terminated"] = True
    return app.do_request(request, status="*", expect_errors=True)


def test_a_streamed_body_over_64_kib_is_413_and_never_reaches_the_view(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    photo = add_product()
    limit = 64 * 1024
    for size in (limit + 1, 100_000):
        over = _streamed(app, shopper, _order_body_of_size(size, photo.id))
        assert over.status_int == 413, size
        assert over.json["errors"][0]["description"] == "request body larger than 65536 bytes"
    assert app.get("/api/order/", headers=shopper["headers"]).json == []
    at_limit = _streamed(app, shopper, _order_body_of_size(limit, photo.id))
    assert at_limit.status_int == 201, at_limit.text
    assert at_limit.json["order"]["paymentstatus"] == "PAID"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_streamed_put_or_patch_over_64_kib_is_413_too(
    app: TestApp, shopper: dict[str, Any], method: str
) -> None:
    answer = _streamed(app, shopper, b" " * (64 * 1024 + 1), method, "/api/product/1/")
    assert (answer.status_int, answer.json["errors"][0]["description"]) == (
        413,
        "request body larger than 65536 bytes",
    )


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_any_request_announcing_more_than_64_kib_is_413(
    app: TestApp, shopper: dict[str, Any], method: str
) -> None:
    answer = app.request(
        "/api/order/",
        method=method,
        body=b" " * (64 * 1024 + 1),
        headers=shopper["headers"],
        expect_errors=True,
    )
    assert answer.status_int == 413


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
    app: TestApp, shop: Shop, shopper: dict[str, Any]
) -> None:
    user = shop.users.find_by_email(shopper["email"])
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


def test_a_streamed_body_is_read_no_further_than_the_limit_and_one_byte(
    app: TestApp, shopper: dict[str, Any]
) -> None:
    # A huge chunked body must not be read into memory to be refused.
    class CountingReader(io.BytesIO):
        """wsgi.input that remembers how many bytes the app asked for."""

        taken = 0

        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            CountingReader.taken += len(data)
            return data

    request = TestRequest.blank(
        "/api/order/",
        method="POST",
        headers={**shopper["headers"], "Content-Type": "application/json"},
    )
    request.environ.pop("CONTENT_LENGTH", None)
    request.environ["wsgi.input"] = CountingReader(b" " * 1_000_000)
    request.environ["wsgi.input_terminated"] = True
    answer = app.do_request(request, status="*", expect_errors=True)
    assert answer.status_int == 413
    assert CountingReader.taken == 64 * 1024 + 1


def test_an_unknown_charset_is_400_naming_at_most_40_of_its_characters(app: TestApp) -> None:
    answer = app.post(
        "/api/signup/",
        b'{"email": "a@example.com"}',
        content_type="application/json; charset=" + "x" * 50,
        status=400,
    )
    expected = "Invalid JSON: unknown charset " + repr("x" * 40)
    assert (answer.json["error"], answer.json["errors"][0]["description"]) == (expected, expected)
