"""No input a client can send is a 500: hostile JSON, odd path ids, invisible characters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webtest import TestApp

from framesell.domain.models import Product
from tests.api.conftest import PASSWORD, unique_email

PRODUCT_ID = "{product}"
ORDER_ID = "{order}"
# Every endpoint that reads a request body, with who may call it.
JSON_ENDPOINTS = [
    ("POST", "/api/api-token-auth/", None),
    ("POST", "/api/signup/", None),
    ("POST", "/api/api-token-refresh/", "shopper"),
    ("POST", "/api/order/", "shopper"),
    ("POST", "/api/order/{order}/confirm/", "shopper"),
    ("POST", "/api/order/{order}/refund/", "admin"),
    ("POST", "/api/product/", "admin"),
    ("PUT", "/api/product/{product}/", "admin"),
    ("POST", "/api/webhooks/stripe/", None),
    ("POST", "/api/password-reset/", None),
    ("POST", "/api/password-reset/confirm/", None),
]
HOSTILE_BODIES = {
    "nested 30,000 deep": "[" * 30_000 + "]" * 30_000,
    "objects nested 10,000 deep": '{"a":' * 10_000 + "1" + "}" * 10_000,
    "a number beyond a float": '{"username": 1e999, "password": "x", "product": 1e999}',
    "NaN": '{"username": NaN, "password": "x", "product": NaN}',
    "a lone surrogate": '{"username": "\\ud800", "password": "\\udfff", "token": "\\ud800"}',
    "10,000 keys": "{" + ",".join('"a":0' for _ in range(10_000)) + "}",
    "a 10,000-item array": "[" + ",".join("0" for _ in range(10_000)) + "]",
}


@pytest.fixture
def world(
    app: TestApp,
    shopper: dict[str, Any],
    admin: dict[str, Any],
    add_product: Callable[..., Product],
) -> dict[str, Any]:
    """A product, one of the shopper's orders, and both callers' headers."""
    product = add_product()
    placed = app.post_json(
        "/api/order/",
        {"token": "pm_card_visa", "product": product.id},
        headers=shopper["headers"],
        status=201,
    )
    return {
        "shopper": shopper["headers"],
        "admin": admin["headers"],
        "product": product.id,
        "order": placed.json["order"]["id"],
    }


def url_of(path: str, world: dict[str, Any]) -> str:
    return path.replace(PRODUCT_ID, str(world["product"])).replace(ORDER_ID, str(world["order"]))


def send(
    app: TestApp, world: dict[str, Any], method: str, path: str, who: str | None, body: bytes
) -> Any:
    headers = {"Content-Type": "application/json"}
    if who is not None:
        headers.update(world[who])
    return app.request(
        url_of(path, world), method=method, body=body, headers=headers, expect_errors=True
    )


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
@pytest.mark.parametrize(("method", "path", "who"), JSON_ENDPOINTS)
def test_hostile_json_is_a_400_on_every_json_endpoint(
    app: TestApp, world: dict[str, Any], method: str, path: str, who: str | None, name: str
) -> None:
    body = HOSTILE_BODIES[name].encode()
    assert len(body) <= 64 * 1024
    response = send(app, world, method, path, who, body)
    if path.endswith(("/refund/", "/confirm/", "/api-token-refresh/")):
        # These read no body: whatever it holds, they answer as without one.
        assert response.status_int < 500
    else:
        assert response.status_int == 400, response.body
        assert response.json


def test_a_charset_nobody_knows_is_a_400(app: TestApp) -> None:
    response = app.post(
        "/api/signup/",
        b"{}",
        headers={"Content-Type": "application/json; charset=no-such-charset"},
        status=400,
    )
    assert "unknown charset" in response.json["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/product/%C2%B2/",  # superscript two: "²".isdigit() is true, int() fails
        "/api/product/%D9%A3/",  # Arabic-Indic three: int() reads 3
        "/api/product/%EF%BC%91/",  # fullwidth one
        "/api/order/%D9%A3/",
        "/api/order/%C2%B2/confirm/",
        "/api/order/%D9%A3/refund/",
    ],
)
def test_path_ids_are_ascii_digits_only(
    app: TestApp, world: dict[str, Any], path: str
) -> None:
    method = "POST" if path.endswith(("/confirm/", "/refund/")) else "GET"
    who = "admin" if path.endswith("/refund/") else "shopper"
    response = app.request(path, method=method, headers=world[who], expect_errors=True)
    assert response.status_int == 404, response.body


@pytest.mark.parametrize(
    "email",
    ["bad\x01@example.com", "bad\x7f@example.com", "evil\u202e@example.com", "a\u200b@example.com"],
)
def test_emails_with_control_or_bidi_characters_are_refused(app: TestApp, email: str) -> None:
    body = {"first_name": "Foo", "last_name": "Bar", "email": email, "password": PASSWORD}
    response = app.post_json("/api/signup/", body, status=400)
    assert response.json["success"] is False
    assert "email" in response.json["error"]


@pytest.mark.parametrize(
    "email",
    ["bad\x01@example.com", "bad\x7f@example.com", "evil\u202e@example.com", "a\u200b@example.com"],
)
def test_a_password_reset_for_an_email_with_control_or_bidi_characters_is_refused(
    app: TestApp, shopper: dict[str, Any], email: str
) -> None:
    # Even when, without the invisible character, it is an account's email.
    invisible = email.split("@")[0].replace("bad", "").replace("evil", "").replace("a", "")
    lookalike = shopper["email"].replace("@", f"{invisible}@")
    for candidate in (email, lookalike):
        response = app.post_json("/api/password-reset/", {"email": candidate}, status=400)
        assert response.json["status"] == "error"
        assert [entry["name"] for entry in response.json["errors"]] == ["email"]


def test_names_with_control_characters_are_refused(app: TestApp) -> None:
    email = unique_email()
    body = {"first_name": "Foo\x00", "last_name": "Bar", "email": email, "password": PASSWORD}
    assert app.post_json("/api/signup/", body, status=400).json["success"] is False


def test_a_payment_token_longer_than_its_column_is_refused(
    app: TestApp, world: dict[str, Any]
) -> None:
    token = "ctoken_" + "a" * 249  # 256 characters; the column holds 255
    response = app.post_json(
        "/api/order/",
        {"token": token, "product": world["product"]},
        headers=world["shopper"],
        status=400,
    )
    assert "token" in response.json["error"]


# Any code point, surrogates, controls and bidi overrides included (json.dumps escapes them).
any_text = st.text(st.characters(categories=["L", "N", "P", "Cc", "Cf", "Cs", "Zs"]), max_size=20)
# Bodies of every JSON shape, and some that are not JSON at all.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and Infinity as json.dumps writes them
    | any_text,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["username", "password", "email", "first_name", "last_name", "token", "product",
     "description", "url", "price", "currency"]
)
likely_objects = st.dictionaries(field_names, json_values, max_size=6)
# What no JSON library writes but an attacker does: deep nesting, numbers beyond a float.
nested = st.builds(
    lambda depth, opener, leaf: (
        ('{"username":' if opener == "{" else "[") * depth
        + leaf
        + ("}" if opener == "{" else "]") * depth
    ),
    st.integers(1, 6000),
    st.sampled_from(["{", "["]),
    st.sampled_from(["1", '"x"', "1e999", "-1e999", "[]", "{}"]),
).map(str.encode)
huge_numbers = st.builds(
    lambda field, number: json.dumps({field: 0}).replace("0", number).encode(),
    field_names,
    st.sampled_from(["1e999", "-1e400", "9" * 5000, "1" + "0" * 400 + ".5"]),
)
bodies = st.one_of(
    nested,
    huge_numbers,
    likely_objects.map(lambda value: json.dumps(value).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, endpoint=st.sampled_from(JSON_ENDPOINTS), content_type=st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "application/json; charset=latin-1"]
))
def test_no_generated_body_makes_any_json_endpoint_answer_5xx(
    app: TestApp,
    world: dict[str, Any],
    body: bytes,
    endpoint: tuple[str, str, str | None],
    content_type: str,
) -> None:
    method, path, who = endpoint
    headers = {"Content-Type": content_type}
    if who is not None:
        headers.update(world[who])
    response = app.request(
        url_of(path, world), method=method, body=body, headers=headers, expect_errors=True
    )
    assert response.status_int < 500, (response.status, response.body)
