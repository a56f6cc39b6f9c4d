"""POST /api/signup/, POST /api/api-token-auth/, GET /api/me/, POST /api/api-token-refresh/."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from webtest import TestApp

from framesell.bootstrap import Shop
from tests.api.conftest import JWT_SECRET, PASSWORD, unique_email


def signup_body(**overrides: Any) -> dict[str, Any]:
    body = {"first_name": "Foo", "last_name": "Bar", "email": unique_email(), "password": PASSWORD}
    body.update(overrides)
    return body


def test_signup_answers_201_success(app: TestApp) -> None:
    response = app.post_json("/api/signup/", signup_body(), status=201)
    assert response.json == {"success": True}


def test_signup_accepts_a_form_encoded_body(app: TestApp) -> None:
    response = app.post("/api/signup/", signup_body(), status=201)
    assert response.json == {"success": True}


def test_signup_stores_only_an_argon2id_hash(app: TestApp, shop: Shop) -> None:
    body = signup_body()
    app.post_json("/api/signup/", body, status=201)
    user = shop.users.find_by_email(body["email"])
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_a_duplicate_email_in_another_letter_case_is_refused(app: TestApp) -> None:
    body = signup_body()
    app.post_json("/api/signup/", body, status=201)
    again = signup_body(email=f"  {body['email'].upper()} ")
    response = app.post_json("/api/signup/", again, status=400)
    assert response.json == {
        "success": False,
        "error": "a user with this email already exists",
        "errors": [
            {
                "location": "body",
                "name": "",
                "description": "a user with this email already exists",
            }
        ],
    }


@pytest.mark.parametrize("field", ["first_name", "last_name", "email", "password"])
def test_signup_without_a_field_names_it(app: TestApp, field: str) -> None:
    body = signup_body()
    del body[field]
    response = app.post_json("/api/signup/", body, status=400)
    assert response.json["success"] is False
    assert response.json["error"] == f"{field}: Required"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"first_name": "   "}, "first_name: may not be blank"),
        ({"last_name": ""}, "last_name: Required"),
        ({"email": "not-an-email"}, "enter a valid email address"),
        ({"email": "a@b"}, "enter a valid email address"),
        ({"password": "short"}, "password must be at least 8 characters"),
        ({"password": "x" * 1025}, "password must be at most 1024 characters"),
        ({"first_name": None}, "first_name: Required"),
        ({"first_name": 42}, "first_name: must be a string"),
        ({"last_name": ["Bar"]}, "last_name: must be a string"),
        ({"email": {"address": "a@b.com"}}, "email: must be a string"),
    ],
)
def test_signup_with_bad_input_explains_it(
    app: TestApp, overrides: dict[str, Any], error: str
) -> None:
    response = app.post_json("/api/signup/", signup_body(**overrides), status=400)
    assert response.json["success"] is False
    assert response.json["error"] == error


def test_signup_with_malformed_json_is_a_400(app: TestApp) -> None:
    response = app.post("/api/signup/", "{first_name", content_type="application/json", status=400)
    assert response.json["success"] is False
    assert response.json["error"].startswith("Invalid JSON")


def test_signup_with_a_list_instead_of_an_object_is_a_400(app: TestApp) -> None:
    response = app.post_json("/api/signup/", [signup_body()], status=400)
    assert response.json["success"] is False
    assert response.json["error"] == "the request body must be a JSON object"


def registered(app: TestApp) -> str:
    body = signup_body()
    app.post_json("/api/signup/", body, status=201)
    return str(body["email"])


def test_login_returns_a_jwt_with_the_promised_claims(app: TestApp, shop: Shop) -> None:
    email = registered(app)
    response = app.post_json("/api/api-token-auth/", {"username": email, "password": PASSWORD})
    assert response.status_code == 200
    assert list(response.json) == ["token"]
    claims = jwt.decode(response.json["token"], JWT_SECRET, algorithms=["HS256"])
    user = shop.users.find_by_email(email)
    assert user is not None
    assert claims["sub"] == str(user.id)
    assert claims["email"] == email
    assert claims["exp"] - claims["iat"] == 3600


def test_login_accepts_a_form_encoded_body(app: TestApp) -> None:
    email = registered(app)
    response = app.post("/api/api-token-auth/", {"username": email, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["token"].count(".") == 2


def test_login_ignores_the_case_and_blanks_of_the_email(app: TestApp) -> None:
    email = registered(app)
    response = app.post_json(
        "/api/api-token-auth/", {"username": f"  {email.upper()}\t", "password": PASSWORD}
    )
    assert response.status_code == 200


def test_a_wrong_password_and_an_unknown_email_answer_the_same(app: TestApp) -> None:
    email = registered(app)
    wrong = app.post_json(
        "/api/api-token-auth/", {"username": email, "password": "wrong password"}, status=400
    )
    unknown = app.post_json(
        "/api/api-token-auth/",
        {"username": unique_email("nobody"), "password": PASSWORD},
        status=400,
    )
    assert wrong.json == unknown.json == {"detail": "authorization failure"}


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "a@b.com"}, {"password": PASSWORD}, {"username": None, "password": None}],
)
def test_login_with_missing_fields_is_an_authorization_failure(
    app: TestApp, body: dict[str, Any]
) -> None:
    response = app.post_json("/api/api-token-auth/", body, status=400)
    assert response.json["detail"] == "authorization failure"
    assert all(e["description"] == "Required" for e in response.json["errors"])


@pytest.mark.parametrize(
    "body", [{"username": 1, "password": PASSWORD}, {"username": ["a@b.com"], "password": "x"}]
)
def test_login_with_wrong_types_is_a_400(app: TestApp, body: dict[str, Any]) -> None:
    response = app.post_json("/api/api-token-auth/", body, status=400)
    assert response.json["detail"] == "authorization failure"
    assert response.json["errors"][0]["description"] == "must be a string"


def test_login_with_malformed_json_is_a_400(app: TestApp) -> None:
    response = app.post(
        "/api/api-token-auth/", b'{"username": ', content_type="application/json", status=400
    )
    assert response.json["detail"] == "authorization failure"


def test_me_greets_the_token_holder(app: TestApp, shopper: dict[str, Any]) -> None:
    response = app.get("/api/me/", headers=shopper["headers"], status=200)
    assert response.json == {
        "id": response.json["id"],
        "email": shopper["email"],
        "first_name": "Foo",
        "last_name": "Bar",
        "is_admin": False,
    }
    assert isinstance(response.json["id"], int)


def test_refresh_gives_a_new_token_for_a_valid_one(app: TestApp, shopper: dict[str, Any]) -> None:
    response = app.post("/api/api-token-refresh/", headers=shopper["headers"], status=200)
    fresh = response.json["token"]
    claims = jwt.decode(fresh, JWT_SECRET, algorithms=["HS256"])
    assert claims["email"] == shopper["email"]
    app.get("/api/me/", headers={"Authorization": f"Bearer {fresh}"}, status=200)


def test_refresh_without_a_token_is_forbidden(app: TestApp) -> None:
    response = app.post("/api/api-token-refresh/", status=403)
    assert response.json == {"detail": "Authentication credentials were not provided."}
