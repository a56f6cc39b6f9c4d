"""GET /api/openapi.json: generated from the registered endpoints, valid, and true to the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import colander
import pytest
from cornice import Service
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from pyramid.config import Configurator
from webtest import TestApp

from framesell.bootstrap import bootstrap
from framesell.domain.models import Product
from framesell.entrypoints.http import includeme
from framesell.entrypoints.http.apidocs import API_DOCS_ROUTE
from framesell.entrypoints.http.openapi import JsonSchemaConverter, responses
from framesell.entrypoints.http.response_schemas import ErrorsJson, ProductJson
from framesell.entrypoints.http.schemas import StrictString
from framesell.settings import Settings
from tests.api.conftest import SETTINGS, unique_email


def the_document(app: TestApp) -> dict[str, Any]:
    """The OpenAPI document the app serves."""
    response = app.get("/api/openapi.json", status=200)
    assert response.content_type == "application/json"
    document: dict[str, Any] = response.json
    return document


def pyramid_api_routes(app: TestApp) -> dict[str, set[str]]:
    """Every route Pyramid knows under /api/, with the methods its views answer.

    The interactive page at /api/docs/ (HTML over this document) is not an operation.
    """
    introspector = app.app.registry.introspector
    routes: dict[str, set[str]] = {}
    for route in introspector.get_category("routes"):
        pattern = route["introspectable"]["pattern"]
        if not pattern.startswith("/api/") or route["introspectable"]["name"] == API_DOCS_ROUTE:
            continue
        methods = routes.setdefault(pattern, set())
        for related in route["related"]:
            if related.category_name != "views" or not related["request_methods"]:
                continue  # Cornice's fallback view (405, 415) answers any method
            named = related["request_methods"]
            methods.update([named] if isinstance(named, str) else named)
    return routes


def body_validator(document: dict[str, Any], path: str, method: str) -> OAS30Validator:
    """A JSON Schema validator for the JSON request body of one operation."""
    content = document["paths"][path][method]["requestBody"]["content"]
    schema = {**content["application/json"]["schema"], "components": document["components"]}
    return OAS30Validator(schema)


def test_every_api_route_and_method_pyramid_serves_is_in_the_document(app: TestApp) -> None:
    document = the_document(app)
    routes = pyramid_api_routes(app)

    assert {"/api/order/", "/api/product/{id}/", "/api/openapi.json"} <= set(routes)
    for pattern, methods in routes.items():
        assert pattern in document["paths"], pattern
        assert methods, pattern
        for method in methods:
            assert method.lower() in document["paths"][pattern], (pattern, method)


def test_every_operation_has_a_summary_and_declares_its_responses(app: TestApp) -> None:
    document = the_document(app)

    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"description", "parameters"}:
                continue
            assert operation["summary"], (path, method)
            # A success: 2xx, or the redirect of a signed download link.
            assert any(code.startswith(("2", "3")) for code in operation["responses"]), (
                path,
                method,
            )


def test_the_document_is_valid_openapi(app: TestApp) -> None:
    document = the_document(app)

    assert document["openapi"].startswith("3.0")
    validate(document)


def test_it_is_public_and_answers_the_same_document_every_time(app: TestApp) -> None:
    first = app.get("/api/openapi.json", status=200)
    second = app.get("/api/openapi.json", status=200)

    assert first.body == second.body
    assert app.app.registry["framesell.openapi_document"] is not None


def test_locked_endpoints_name_the_token_scheme_and_public_ones_do_not(app: TestApp) -> None:
    paths = the_document(app)["paths"]
    scheme = the_document(app)["components"]["securitySchemes"]["jwt"]

    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": scheme["description"],
    }
    assert paths["/api/order/"]["post"]["security"] == [{"jwt": []}]
    assert paths["/api/product/{id}/"]["delete"]["security"] == [{"jwt": []}]
    assert "403" in paths["/api/me/"]["get"]["responses"]
    assert "security" not in paths["/api/product/"]["get"]
    assert "security" not in paths["/api/signup/"]["post"]


def test_placing_an_order_documents_its_body_header_and_every_answer(app: TestApp) -> None:
    document = the_document(app)
    place = document["paths"]["/api/order/"]["post"]
    schema = document["components"]["schemas"]["PlaceOrderSchema"]

    # Either the original's product (its digital download) or a cart's items.
    assert schema["required"] == ["token"]
    assert set(schema["properties"]) == {"token", "product", "items", "shipping"}
    assert list(place["requestBody"]["content"]) == ["application/json"]
    assert place["parameters"][0]["name"] == "Idempotency-Key"
    assert place["parameters"][0]["required"] is False
    assert set(place["responses"]) == {
        "201", "202", "400", "402", "403", "409", "413", "415", "422", "429", "503"
    }
    declined = place["responses"]["402"]["content"]["application/json"]["schema"]
    assert declined == {
        "anyOf": [
            {"$ref": "#/components/schemas/PaymentFailedJson"},
            {"$ref": "#/components/schemas/AuthenticationRequiredJson"},
        ]
    }


def test_logging_in_and_signing_up_accept_json_and_forms(app: TestApp) -> None:
    paths = the_document(app)["paths"]

    for path in ("/api/api-token-auth/", "/api/signup/"):
        assert set(paths[path]["post"]["requestBody"]["content"]) == {
            "application/json",
            "application/x-www-form-urlencoded",
        }


def test_path_ids_are_integers(app: TestApp) -> None:
    parameters = the_document(app)["paths"]["/api/order/{id}/confirm/"]["parameters"]

    assert parameters == [
        {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
            "example": 1,
        }
    ]


def test_the_signup_body_the_document_shows_is_accepted_as_json_and_as_a_form(
    app: TestApp,
) -> None:
    schema = the_document(app)["components"]["schemas"]["SignupSchema"]
    example = {name: field["example"] for name, field in schema["properties"].items()}

    as_json = {**example, "email": unique_email()}
    as_form = {**example, "email": unique_email()}

    assert app.post_json("/api/signup/", as_json, status=201).json == {"success": True}
    assert app.post("/api/signup/", as_form, status=201).json == {"success": True}


@pytest.mark.parametrize(
    "body",
    [
        {"token": "pm_card_visa", "product": 1},
        {"token": "pm_card_visa", "product": "1"},
        {"token": "  tok_visa  ", "product": " 1 "},
        {"token": "ctoken_abc", "product": 1, "extra": True},
        {"token": "pm_card_visa"},
        {"product": 1},
        {"token": "pm_card_visa", "product": 1.5},
        {"token": "pm_card_visa", "product": True},
        {"token": "pm_card_visa", "product": [1]},
        {"token": "pm_card_visa", "product": 0},
        {"token": "pm_card_visa", "product": ""},
        {"token": "", "product": 1},
        {"token": "card_123", "product": 1},
        {"token": 12, "product": 1},
        [],
    ],
)
def test_the_order_schema_allows_exactly_the_bodies_the_api_reads(
    app: TestApp,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
    body: Any,
) -> None:
    validator = body_validator(the_document(app), "/api/order/", "post")
    product = add_product()
    if isinstance(body, dict) and body.get("product") in (1, "1", " 1 "):
        body = {**body, "product": product.id}

    response = app.post_json("/api/order/", body, headers=shopper["headers"], expect_errors=True)

    assert validator.is_valid(body) == (response.status_int != 400), response.json


@pytest.mark.parametrize(
    "body",
    [
        {"description": "Parrot", "url": "https://x.example/p.jpg", "price": 59.99},
        {"description": " Parrot ", "url": " https://x.example/p.jpg ", "price": "59.99"},
        {"description": "Parrot", "url": "https://x.example/p.jpg", "price": 5, "currency": ""},
        {"description": "Parrot", "url": "https://x.example/p.jpg", "price": 5, "currency": None},
        {"description": "Parrot", "url": "https://x.example/p.jpg", "price": 5, "currency": "eur"},
        {"description": "Parrot", "url": "http://x.example/p.jpg", "price": 5},
        {"description": "   ", "url": "https://x.example/p.jpg", "price": 5},
        {"description": "x" * 501, "url": "https://x.example/p.jpg", "price": 5},
        {"description": "Parrot", "url": "https://x.example/p.jpg", "price": 0},
        {"description": "Parrot", "url": "https://x.example/p.jpg", "price": 1000000},
        {"description": "Parrot", "url": "https://x.example/p.jpg", "price": -1},
        {"description": "Parrot", "url": "https://x.example/p.jpg", "price": True},
    ],
)
def test_the_product_schema_allows_exactly_the_bodies_the_api_reads(
    app: TestApp, admin: dict[str, Any], body: dict[str, Any]
) -> None:
    validator = body_validator(the_document(app), "/api/product/", "post")

    response = app.post_json("/api/product/", body, headers=admin["headers"], expect_errors=True)

    assert validator.is_valid(body) == (response.status_int == 201), response.json


def test_answers_match_their_documented_schemas(
    app: TestApp, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    document = the_document(app)
    product = add_product(price="59.99")

    def check(path: str, method: str, response: Any) -> None:
        answer = document["paths"][path][method]["responses"][str(response.status_int)]
        schema = {
            **answer["content"]["application/json"]["schema"],
            "components": document["components"],
        }
        OAS30Validator(schema).validate(response.json)

    headers = shopper["headers"]
    check("/api/product/", "get", app.get("/api/product/"))
    check("/api/me/", "get", app.get("/api/me/", headers=headers))
    check("/api/me/", "get", app.get("/api/me/", status=403))
    bought = {"token": "pm_card_visa", "product": product.id}
    check("/api/order/", "post", app.post_json("/api/order/", bought, headers=headers))
    declined = {"token": "pm_card_chargeDeclined", "product": product.id}
    refused = app.post_json("/api/order/", declined, headers=headers, status=402)
    check("/api/order/", "post", refused)
    check("/api/order/", "post", app.post_json("/api/order/", {}, headers=headers, status=400))
    check("/api/order/", "get", app.get("/api/order/", headers=headers))
    check("/api/order/{id}/", "get", app.get("/api/order/999/", headers=headers, status=404))
    unread = app.post("/api/signup/", "x", content_type="text/plain", status=415)
    check("/api/signup/", "post", unread)
    check("/api/health/", "get", app.get("/api/health/"))


def test_a_content_type_a_view_does_not_read_is_415_in_the_endpoints_shape(app: TestApp) -> None:
    login = app.post("/api/api-token-auth/", "{}", content_type="text/plain", status=415)
    signup = app.post("/api/signup/", "{}", content_type="text/plain", status=415)

    assert login.json["detail"] == "authorization failure"
    assert login.json["errors"][0]["name"] == "Content-Type"
    assert signup.json["success"] is False
    assert signup.json["error"].startswith("Content-Type: Content-Type header should be one of")


def test_a_new_cornice_service_appears_in_the_document_without_writing_it_down() -> None:
    shop = bootstrap(Settings.from_mapping(SETTINGS))

    class PokeSchema(colander.MappingSchema):
        """A test's own body."""

        note = colander.SchemaNode(StrictString(), validator=colander.Length(max=10))

    poke = Service(name="poke", path="/api/poke/{id}/", description="A test's own endpoint.")

    @poke.post(schema=PokeSchema(), content_type=("application/json",), permission="admin")
    @responses({200: ProductJson, 404: ErrorsJson})
    def poke_it(request: Any) -> dict[str, Any]:
        """Poke a thing by id."""
        return {}

    with Configurator(settings=dict(SETTINGS)) as config:
        config.registry.framesell_shop = shop
        config.add_request_method(lambda request: shop, "shop", reify=True)
        config.include(includeme)
        config.add_cornice_service(poke)
        app = TestApp(config.make_wsgi_app())

    operation = the_document(app)["paths"]["/api/poke/{id}/"]["post"]
    components = the_document(app)["components"]["schemas"]

    assert operation["summary"] == "Poke a thing by id."
    assert operation["description"] == "Admins only: anyone else gets 403."
    assert operation["security"] == [{"jwt": []}]
    assert set(operation["responses"]) == {"200", "400", "403", "404", "413", "415"}
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PokeSchema"
    }
    assert components["PokeSchema"]["properties"]["note"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 10,
    }


def test_the_converter_reads_colander_as_colander_reads_requests() -> None:
    class Sample(colander.MappingSchema):
        """Sample."""

        name = colander.SchemaNode(StrictString(), validator=colander.Regex(r"^[a-z]+$"))
        kind = colander.SchemaNode(
            StrictString(), missing="a", validator=colander.OneOf(["a", "b"])
        )
        tags = colander.SchemaNode(
            colander.Sequence(),
            colander.SchemaNode(colander.Int(), validator=colander.Range(1, 9)),
            validator=colander.Length(max=3),
            missing=colander.drop,
        )
        flag = colander.SchemaNode(colander.Boolean())

    converter = JsonSchemaConverter()
    assert converter.convert(Sample(), "request") == {"$ref": "#/components/schemas/Sample"}
    assert converter.components["Sample"] == {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "pattern": "^(?:[a-z]+)$"},
            "kind": {
                "type": "string",
                "enum": ["a", "b", "", None],
                "nullable": True,
                "default": "a",
            },
            "tags": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": 9},
                "maxItems": 3,
                "nullable": True,
            },
            "flag": {"type": "boolean"},
        },
        "required": ["name", "flag"],
        "description": "Sample.",
    }
