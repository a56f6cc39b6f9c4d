"""The real development.ini and production.ini boot, and production refuses unsafe settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyramid.paster import get_app
from pyramid.router import Router
from webtest import TestApp

from framesell.adapters.sql.migrate import upgrade_to_head
from framesell.entrypoints.http.fastlane import FastLane
from framesell.settings import ConfigurationError, Settings

REPOSITORY = Path(__file__).resolve().parents[2]
GOOD_SECRET = "x" * 32


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for variable in (
        "FRAMESELL_DATABASE_URL",
        "FRAMESELL_JWT_SECRET",
        "FRAMESELL_STRIPE_SECRET_KEY",
        "FRAMESELL_STRIPE_PUBLISHABLE_KEY",
        "FRAMESELL_STRIPE_API_BASE",
        "FRAMESELL_STRIPE_WEBHOOK_SECRET",
        "FRAMESELL_PAYMENT",
        "FRAMESELL_STORAGE",
        "FRAMESELL_CORS_ORIGINS",
        "FRAMESELL_MAIL",
        "FRAMESELL_SMTP_HOST",
        "FRAMESELL_SHOP_URL",
        "FRAMESELL_TRUSTED_PROXIES",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("FRAMESELL_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.sqlite'}")
    return monkeypatch


def production_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("FRAMESELL_JWT_SECRET", GOOD_SECRET)
    env.setenv("FRAMESELL_STRIPE_SECRET_KEY", "sk_live_example")
    env.setenv("FRAMESELL_STRIPE_PUBLISHABLE_KEY", "pk_live_example")
    env.setenv("FRAMESELL_STRIPE_WEBHOOK_SECRET", "whsec_example")
    env.setenv("FRAMESELL_SMTP_HOST", "smtp.example.com")
    env.setenv("FRAMESELL_SHOP_URL", "https://shop.example.com/")


def test_development_ini_boots_and_serves_the_catalog(environment: pytest.MonkeyPatch) -> None:
    app = TestApp(get_app(str(REPOSITORY / "development.ini"), "main"))
    assert app.get("/api/product/", status=200).json == []


@pytest.mark.parametrize("ini", ["development.ini", "production.ini"])
def test_each_ini_serves_the_shop_behind_the_fast_lane(
    environment: pytest.MonkeyPatch, ini: str
) -> None:
    production_environment(environment)
    upgrade_to_head(os.environ["FRAMESELL_DATABASE_URL"])
    app = get_app(str(REPOSITORY / ini), "main")
    assert isinstance(app, FastLane)
    assert isinstance(app.router, Router)
    assert app.registry is app.router.registry


def test_production_ini_boots_with_its_secrets_from_the_environment(
    environment: pytest.MonkeyPatch,
) -> None:
    production_environment(environment)
    settings = Settings.from_mapping(
        {"framesell.environment": "production", "framesell.storage": "sql", "framesell.mail": "off"}
    )
    upgrade_to_head(settings.database_url)  # production never migrates by itself
    app = TestApp(get_app(str(REPOSITORY / "production.ini"), "main"))
    assert app.get("/api/product/", status=200).json == []


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("FRAMESELL_JWT_SECRET", "FRAMESELL_JWT_SECRET"),
        ("FRAMESELL_STRIPE_SECRET_KEY", "FRAMESELL_STRIPE_SECRET_KEY"),
        ("FRAMESELL_STRIPE_WEBHOOK_SECRET", "FRAMESELL_STRIPE_WEBHOOK_SECRET"),
        ("FRAMESELL_DATABASE_URL", "FRAMESELL_DATABASE_URL"),
    ],
)
def test_production_refuses_to_start_without_a_secret(
    environment: pytest.MonkeyPatch, missing: str, message: str
) -> None:
    production_environment(environment)
    environment.delenv(missing)
    with pytest.raises(ConfigurationError, match=message):
        get_app(str(REPOSITORY / "production.ini"), "main")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FRAMESELL_JWT_SECRET", "x" * 31, "at least 32 bytes"),
        ("FRAMESELL_PAYMENT", "fake", "fake gateway"),
        ("FRAMESELL_STORAGE", "memory", "SQL"),
        ("FRAMESELL_PAYMENT", "paypal", "unknown framesell.payment"),
        ("FRAMESELL_STORAGE", "redis", "unknown framesell.storage"),
        ("FRAMESELL_MAIL", "memory", "FRAMESELL_MAIL=off"),
        ("FRAMESELL_MAIL", "carrier-pigeon", "unknown framesell.mail"),
        ("FRAMESELL_SHOP_URL", "http://shop.example.com/", "FRAMESELL_SHOP_URL"),
        (
            "FRAMESELL_JWT_SECRET",
            "development-only-jwt-secret-not-for-production",
            "published in development.ini",
        ),
        ("FRAMESELL_STRIPE_WEBHOOK_SECRET", "whsec_framesell_development_only", "published"),
        ("FRAMESELL_STRIPE_API_BASE", "http://stripe.internal:8420", "https://"),
        ("FRAMESELL_STRIPE_API_BASE", "ftp://127.0.0.1", "https://"),
        ("FRAMESELL_TRUSTED_PROXIES", "10.0.0.1 0.0.0.0/0", "trusts every address"),
        ("FRAMESELL_TRUSTED_PROXIES", "::/0", "trusts every address"),
        ("FRAMESELL_DATABASE_URL", "sqlite://", "SQLite in memory"),
        ("FRAMESELL_DATABASE_URL", "sqlite:///:memory:", "SQLite in memory"),
        ("FRAMESELL_DATABASE_URL", "sqlite:///file::memory:?uri=true", "SQLite in memory"),
    ],
)
def test_production_refuses_unsafe_or_unknown_settings(
    environment: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    production_environment(environment)
    environment.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        get_app(str(REPOSITORY / "production.ini"), "main")


def test_production_refuses_to_start_without_smtp_unless_mail_is_turned_off(
    environment: pytest.MonkeyPatch,
) -> None:
    production_environment(environment)
    environment.delenv("FRAMESELL_SMTP_HOST")
    with pytest.raises(ConfigurationError, match="FRAMESELL_SMTP_HOST"):
        get_app(str(REPOSITORY / "production.ini"), "main")
    environment.setenv("FRAMESELL_MAIL", "off")
    test_settings = {"framesell.environment": "test", "framesell.jwt.secret": GOOD_SECRET,
                     "framesell.storage": "sql", "framesell.payment": "fake"}  # fmt: skip
    upgrade_to_head(Settings.from_mapping(test_settings).database_url)
    app = get_app(str(REPOSITORY / "production.ini"), "main")
    assert app.registry.framesell_shop.mail is None  # nothing is ever queued or sent


def test_environment_variables_override_the_ini(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("FRAMESELL_STRIPE_API_BASE", "http://127.0.0.1:9999")
    environment.setenv("FRAMESELL_STRIPE_JS_URL", "http://127.0.0.1:9999/js.stripe.com/v3/")
    environment.setenv("FRAMESELL_PAYMENT", "fake")
    environment.setenv("FRAMESELL_CORS_ORIGINS", "https://a.example https://b.example")
    from pyramid.paster import get_appsettings

    development = get_appsettings(str(REPOSITORY / "development.ini"), "framesell")
    settings = Settings.from_mapping(development)
    assert settings.stripe_api_base == "http://127.0.0.1:9999"
    assert settings.stripe_js_url == "http://127.0.0.1:9999/js.stripe.com/v3/"
    assert settings.payment == "fake"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.environment == "development"


@pytest.mark.parametrize(
    "api_base", ["https://api.stripe.example", "http://127.0.0.1:12111", "http://[::1]:8420"]
)
def test_production_accepts_https_or_a_loopback_stripe_address(
    environment: pytest.MonkeyPatch, api_base: str
) -> None:
    production_environment(environment)
    environment.setenv("FRAMESELL_STRIPE_API_BASE", api_base)
    get_app(str(REPOSITORY / "production.ini"), "main")


def test_development_ini_run_as_production_is_refused_for_its_public_secrets(
    environment: pytest.MonkeyPatch,
) -> None:
    from pyramid.paster import get_appsettings

    settings = dict(get_appsettings(str(REPOSITORY / "development.ini"), "framesell"))
    settings["framesell.environment"] = "production"
    settings["framesell.auto_migrate"] = "false"
    with pytest.raises(ConfigurationError, match=r"published in development\.ini"):
        Settings.from_mapping(settings)


def test_production_ini_trusts_a_proxy_on_its_own_host(environment: pytest.MonkeyPatch) -> None:
    from pyramid.paster import get_appsettings

    production_environment(environment)
    production = get_appsettings(str(REPOSITORY / "production.ini"), "framesell")
    settings = Settings.from_mapping(production)
    assert settings.trusted_proxies == ("127.0.0.1", "::1")
