"""The HTTP API: Cornice services, Colander schemas, one error view; ``make_app`` builds it."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.router import Router

from framesell.entrypoints.http.frontend import include_frontend
from framesell.entrypoints.logs import install_secret_filter


def includeme(config: Configurator) -> None:
    """Register the API's tweens, services and error views."""
    config.include("cornice")
    config.add_tween("framesell.entrypoints.http.tweens.cors_tween_factory")
    config.add_tween("framesell.entrypoints.http.tweens.body_limit_tween_factory")
    config.add_tween("framesell.entrypoints.http.tweens.trailing_slash_tween_factory")
    # Added last, so they wrap the others: every response gets the headers and a log line.
    config.add_tween("framesell.entrypoints.http.tweens.security_headers_tween_factory")
    config.add_tween("framesell.entrypoints.http.tweens.request_log_tween_factory")
    install_secret_filter()
    config.scan("framesell.entrypoints.http")


def make_app(services: Any, settings: dict[str, Any] | None = None) -> Router:
    """The WSGI app over already-built services (from ``framesell.bootstrap``)."""
    with Configurator(settings=settings or {}) as config:
        config.registry.framesell_services = services  # for the tests and the CLI's peers
        config.add_request_method(lambda request: services, "services", reify=True)
        config.include(includeme)
        if services.settings.frontend_dir:
            include_frontend(config, services.settings.frontend_dir)
        return config.make_wsgi_app()
