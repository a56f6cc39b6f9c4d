"""Who may call what is declared once, as each view's permission, and holds for every route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cornice import Service
from pyramid.config import Configurator
from webtest import TestApp

from framesell.bootstrap import Shop, bootstrap
from framesell.domain.models import Product
from framesell.entrypoints.http import includeme
from framesell.entrypoints.http.apidocs import API_DOCS_PATH
from framesell.entrypoints.http.openapi import responses
from framesell.entrypoints.http.response_schemas import ProductJson
from framesell.entrypoints.http.security import ADMIN, PUBLIC, SHOPPER
from framesell.settings import Settings
from tests.api.conftest import SETTINGS

NO_TOKEN = {"detail": "Authentication credentials were not provided."}
NOT_ADMIN = {"detail": "you do not have permission to perform this action"}
CALLERS = ("anonymous", "shopper", "admin")


def declared_permissions(app: TestApp) -> dict[tuple[str, str], str]:
    """(route pattern, method) → the permission of its view, for every route under /api/."""
    introspector = app.app.registry.introspector
    found: dict[tuple[str, str], str] = {}
    for route in introspector.get_category("routes"):
        pattern = route["introspectable"]["pattern"]
        if not pattern.startswith("/api/"):
            continue
        for view in route["related"]:
            if view.category_name != "views" or not view["request_methods"]:
                continue  # Cornice's fallback view (405, 415): no token read
            permissions = [
                related["value"]
                for related in introspector.related(view)
                if related.category_name == "permissions"
            ]
            assert len(permissions) == 1, f"{pattern} {view['request_methods']}: no permission="
            methods = view["request_methods"]
            for method in [methods] if isinstance(methods, str) else methods:
                previous = found.setdefault((pattern, method), permissions[0])
                assert previous == permissions[0], (pattern, method)
    return found


def test_every_view_under_api_declares_one_of_the_three_permissions(app: TestApp) -> None:
    permissions = declared_permissions(app)
    assert permissions
    assert set(permissions.values()) <= {PUBLIC, SHOPPER, ADMIN}
    assert permissions[("/api/product/", "GET")] == PUBLIC
    assert permissions[("/api/order/", "POST")] == SHOPPER
    assert permissions[("/api/order/{id}/refund/", "POST")] == ADMIN
    assert permissions[("/api/admin/orders/", "GET")] == ADMIN
    assert permissions[("/api/password-reset/", "POST")] == PUBLIC
    assert permissions[("/api/password-reset/confirm/", "POST")] == PUBLIC


@pytest.fixture
def callers(
    app: TestApp,
    shopper: dict[str, Any],
    admin: dict[str, Any],
    add_product: Callable[..., Product],
) -> dict[str, Any]:
    product = add_product()
    order = app.post_json(
        "/api/order/",
        {"token": "pm_card_visa", "product": product.id},
        headers=shopper["headers"],
        status=201,
    ).json["order"]["id"]
    return {
        "anonymous": {},
        "shopper": shopper["headers"],
        "admin": admin["headers"],
        "ids": {"/api/product/{id}/": product.id, "/api/order/": order},
    }


def concrete(pattern: str, ids: dict[str, int]) -> str:
    value = ids["/api/product/{id}/"] if pattern.startswith("/api/product/") else ids["/api/order/"]
    return pattern.replace("{id}", str(value))


def test_every_route_answers_each_caller_as_its_permission_says(
    app: TestApp, callers: dict[str, Any]
) -> None:
    checked = 0
    for (pattern, method), permission in sorted(declared_permissions(app).items()):
        for caller in CALLERS:
            response = app.request(
                concrete(pattern, callers["ids"]),
                method=method,
                body=b"{}" if method in ("POST", "PUT") else b"",
                headers={"Content-Type": "application/json", **callers[caller]},
                expect_errors=True,
            )
            where = (pattern, method, caller, response.status, response.body[:200])
            allowed = {PUBLIC: CALLERS, SHOPPER: ("shopper", "admin"), ADMIN: ("admin",)}
            if caller in allowed[permission]:
                assert response.status_int != 403, where
            else:
                assert response.status_int == 403, where
                if method != "HEAD":
                    expected = NO_TOKEN if caller == "anonymous" else NOT_ADMIN
                    assert response.json == expected, where
            checked += 1
    assert checked >= 3 * 20


def test_the_openapi_document_asks_for_a_token_exactly_where_a_permission_needs_one(
    app: TestApp,
) -> None:
    paths = app.get("/api/openapi.json").json["paths"]
    for (pattern, method), permission in declared_permissions(app).items():
        if pattern.startswith(API_DOCS_PATH):
            continue  # the interactive page is not an API operation (apidocs.py)
        operation = paths[pattern][method.lower()]
        needs_token = permission != PUBLIC
        assert ("security" in operation) is needs_token, (pattern, method)
        assert ("403" in operation["responses"]) is needs_token, (pattern, method)
        notes = operation.get("description", "")
        admins_only = notes.endswith("Admins only: anyone else gets 403.")
        assert admins_only is (permission == ADMIN), (pattern, method)


def app_with(endpoint: Service) -> TestApp:
    shop = bootstrap(Settings.from_mapping(SETTINGS, {}))
    with Configurator(settings=dict(SETTINGS)) as config:
        config.registry.framesell_shop = shop
        config.add_request_method(lambda request: shop, "shop", reify=True)
        config.include(includeme)
        config.add_cornice_service(endpoint)
        return TestApp(config.make_wsgi_app())


def test_a_view_is_protected_by_its_permission_even_if_it_checks_nothing_itself() -> None:
    secret = Service(name="secret", path="/api/secret/", description="A test's own endpoint.")

    @secret.get(permission=ADMIN)
    @responses({200: ProductJson})
    def show_secret(request: Any) -> dict[str, Any]:
        """Everything, to anyone who gets here."""
        return {"secret": True}

    app = app_with(secret)
    assert app.get("/api/secret/", status=403).json == NO_TOKEN
    app.get("/api/secret/", headers={"Authorization": "JWT forged"}, status=403)


def test_a_view_without_a_permission_stops_the_openapi_document(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forgotten = Service(name="forgotten", path="/api/forgotten/", description="No permission.")

    @forgotten.get()
    @responses({200: ProductJson})
    def show_forgotten(request: Any) -> dict[str, Any]:
        """Who may call this?"""
        return {}

    app = app_with(forgotten)
    app.get("/api/openapi.json", status=500)  # a bug to fix before release, caught in tests
    assert "forgotten GET: the view declares no permission=" in caplog.text


def test_pyramids_authenticated_userid_is_the_tokens_account_and_none_without_one(
    app: TestApp, shop: Shop, shopper: dict[str, Any]
) -> None:
    from pyramid.interfaces import IRequestFactory
    from pyramid.request import Request
    from pyramid.scripting import prepare

    registry = app.app.registry
    request_factory = registry.queryUtility(IRequestFactory, default=Request)
    user = shop.users.find_by_email(shopper["email"])
    assert user is not None
    for headers, expected in ((shopper["headers"], user.id), ({}, None)):
        env = prepare(
            request=request_factory.blank("/api/order/", headers=headers), registry=registry
        )
        try:
            assert env["request"].authenticated_userid == expected
        finally:
            env["closer"]()


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("JWT", "Invalid Authorization header. No credentials provided."),
        ("JWT a b", "Invalid Authorization header. Credentials string should not contain spaces."),
        ("Basic abc", "Authentication credentials were not provided."),
    ],
)
def test_a_refused_token_gives_the_same_reason_every_time_it_is_asked(
    app: TestApp, authorization: str, reason: str
) -> None:
    # The policy asks first and a view may ask again: the refusal is remembered, reason and all.
    from pyramid.interfaces import IRequestFactory
    from pyramid.request import Request
    from pyramid.scripting import prepare

    from framesell.domain.errors import NotAuthenticated
    from framesell.entrypoints.http.security import authenticated_user_id

    registry = app.app.registry
    request_factory = registry.queryUtility(IRequestFactory, default=Request)
    request = request_factory.blank("/api/order/", headers={"Authorization": authorization})
    env = prepare(request=request, registry=registry)
    try:
        for _ in range(2):
            with pytest.raises(NotAuthenticated) as refused:
                authenticated_user_id(env["request"])
            assert refused.value.message == reason
    finally:
        env["closer"]()


def test_a_view_with_a_permission_the_policy_does_not_know_is_refused_to_everyone() -> None:
    odd = Service(name="odd", path="/api/odd/", description="A test's own endpoint.")

    @odd.get(permission="staff")
    @responses({200: ProductJson})
    def show_odd(request: Any) -> dict[str, Any]:
        """Nobody may get here."""
        return {"odd": True}

    app = app_with(odd)
    shop = app.app.registry.framesell_shop
    shop.users.register(
        first_name="Ada", last_name="Admin", email="odd-admin@example.com",
        password="correct horse battery", is_admin=True,
    )
    token = shop.users.log_in("odd-admin@example.com", "correct horse battery")
    refused = app.get("/api/odd/", headers={"Authorization": f"JWT {token}"}, status=403)
    assert refused.json == {"detail": "unknown permission 'staff'"}
