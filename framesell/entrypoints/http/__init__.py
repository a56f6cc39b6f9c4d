"""The HTTP API: Cornice endpoints, Colander schemas, error views; ``make_app`` builds it."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.router import Router

from framesell.entrypoints.http.bodies import strict_json_body
from framesell.entrypoints.http.frontend import include_frontend
from framesell.entrypoints.http.security import JwtSecurityPolicy
from framesell.entrypoints.http.speedups import (
    bake_request_properties,
    check_predicates_before_calling,
)
from framesell.entrypoints.logs import install_secret_filter


def includeme(config: Configurator) -> None:
    """Register the API's tweens, endpoints and error views."""
    config.include("cornice")
    # Who may call each view: its permission= (PUBLIC, SHOPPER, ADMIN), judged from the JWT.
    config.set_security_policy(JwtSecurityPolicy())
    # Request id, body limit, trailing slash, CORS, security headers and the request log.
    config.add_tween("framesell.entrypoints.http.tweens.request_tween_factory")
    install_secret_filter()
    config.scan("framesell.entrypoints.http")
    config.include("framesell.entrypoints.http.apidocs")


def make_app(shop: Any, settings: dict[str, Any] | None = None) -> Router:
    """Pyramid's router over an already-built shop (from ``framesell.bootstrap``).

    The ini files put the fast lane (``fastlane.py``) in front of it, as a filter of their
    ``[pipeline:main]``.
    """
    with Configurator(settings=settings or {}) as config:
        config.registry.framesell_shop = shop  # for the tests and the CLI's peers
        config.add_request_method(lambda request: shop, "shop", reify=True)
        # Hostile JSON (deep nesting, 1e999, lone surrogates) is a 400 (bodies.py).
        config.add_request_method(strict_json_body, "json_body", reify=True)
        config.include(includeme)
        if shop.settings.frontend_dir:
            include_frontend(config, shop.settings.frontend_dir)
        config.commit()
        bake_request_properties(config.registry)
        check_predicates_before_calling(config.registry)
        return config.make_wsgi_app()
