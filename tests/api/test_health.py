"""GET /api/health/: 200 while the database answers, 503 while it does not, and back."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL, make_url
from webtest import TestApp

from tests.api.conftest import PASSWORD, SETTINGS, served, unique_email
from tests.fixtures.network import TcpProxy

HEALTHY = {"status": "ok", "database": "ok"}
UNHEALTHY = {"status": "error", "database": "unavailable"}


def test_health_is_ok_when_the_storage_answers(app: TestApp) -> None:
    response = app.get("/api/health/", status=200)
    assert response.json == HEALTHY
    assert response.headers["Cache-Control"] == "no-store"


def test_health_answers_without_the_trailing_slash_too(app: TestApp) -> None:
    assert app.get("/api/health", status=200).json == HEALTHY


@pytest.mark.mysql
def test_health_is_503_while_the_database_is_cut_off_and_200_once_it_is_back(
    mysql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("FRAMESELL_STORAGE", "FRAMESELL_PAYMENT", "FRAMESELL_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    database = make_url(mysql_url)
    proxy = TcpProxy(database.host or "127.0.0.1", database.port or 3306)
    try:
        check_outage_and_recovery(database.set(host="127.0.0.1", port=proxy.port), proxy)
    finally:
        proxy.cut()


def check_outage_and_recovery(proxied: URL, proxy: TcpProxy) -> None:
    settings = {
        **SETTINGS,
        "framesell.storage": "sql",
        "framesell.database_url": proxied.render_as_string(hide_password=False),
    }
    app = TestApp(served(settings))
    email = unique_email("health")
    signup = {"first_name": "Foo", "last_name": "Bar", "email": email, "password": PASSWORD}
    app.post_json("/api/signup/", signup, status=201)
    assert app.get("/api/health/", status=200).json == HEALTHY

    proxy.cut()
    assert app.get("/api/health/", status=503).json == UNHEALTHY
    login = {"username": email, "password": PASSWORD}
    app.post_json("/api/api-token-auth/", login, status=503)  # not a 500, not a 400
    assert app.get("/api/health/", status=503).json == UNHEALTHY

    proxy.restore()
    assert app.get("/api/health/", status=200).json == HEALTHY
    assert "token" in app.post_json("/api/api-token-auth/", login, status=200).json
    app.app.registry.framesell_shop.close()
