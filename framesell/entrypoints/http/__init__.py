"""The HTTP API: Cornice services, Colander schemas, one error view; ``make_app`` builds it."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.config.views import MultiView
from pyramid.exceptions import PredicateMismatch
from pyramid.interfaces import IRequestExtensions, IRequestFactory
from pyramid.registry import Registry
from pyramid.request import Request

from framesell.entrypoints.http.bodies import strict_json_body
from framesell.entrypoints.http.fastlane import CatalogFastLane
from framesell.entrypoints.http.frontend import include_frontend
from framesell.entrypoints.http.security import JwtSecurityPolicy
from framesell.entrypoints.logs import install_secret_filter


def includeme(config: Configurator) -> None:
    """Register the API's tweens, services and error views."""
    config.include("cornice")
    # Who may call each view: its permission= (PUBLIC, SHOPPER, ADMIN), judged from the JWT.
    config.set_security_policy(JwtSecurityPolicy())
    # Request id, body limit, trailing slash, CORS, security headers and the request log.
    config.add_tween("framesell.entrypoints.http.tweens.request_tween_factory")
    install_secret_filter()
    config.scan("framesell.entrypoints.http")
    config.include("framesell.entrypoints.http.apidocs")


def make_app(services: Any, settings: dict[str, Any] | None = None) -> CatalogFastLane:
    """The WSGI app over already-built services (from ``framesell.bootstrap``).

    Pyramid's router, behind the catalog's fast lane (``fastlane.py``); ``.registry`` is
    the router's.
    """
    with Configurator(settings=settings or {}) as config:
        config.registry.framesell_services = services  # for the tests and the CLI's peers
        config.add_request_method(lambda request: services, "services", reify=True)
        # Hostile JSON (deep nesting, 1e999, lone surrogates) is a 400 (bodies.py).
        config.add_request_method(strict_json_body, "json_body", reify=True)
        config.include(includeme)
        if services.settings.frontend_dir:
            include_frontend(config, services.settings.frontend_dir)
        config.commit()
        bake_request_properties(config.registry)
        check_predicates_before_calling(config.registry)
        return CatalogFastLane(config.make_wsgi_app())


def bake_request_properties(registry: Registry) -> None:
    """Put the request properties (ours, Cornice's) on one request class, made once.

    Pyramid otherwise adds them to every request by building a new subclass per request
    (``InstancePropertyHelper.apply_properties``), which was ~10 % of a cheap request's
    time. The properties are the same descriptors either way; only the class is shared.
    """
    extensions = registry.queryUtility(IRequestExtensions)
    if extensions is None or not extensions.descriptors:
        return
    base = registry.queryUtility(IRequestFactory, default=Request)
    attributes = {"__module__": base.__module__, **extensions.descriptors}
    registry.registerUtility(type(base.__name__, (base,), attributes), IRequestFactory)
    extensions.descriptors = {}


class PrecheckingMultiView(MultiView):
    """Pyramid's MultiView, but a view whose predicates fail is skipped, not called.

    Cornice registers each path's views in one MultiView, ordered by predicate count, so a
    GET first tries the POST views; Pyramid finds out by calling each and catching the
    PredicateMismatch it raises, a full HTTP exception response built twice per GET. The
    same predicates are asked first here without raising; the view still checks them.
    """

    def __call__(self, context: Any, request: Request) -> Any:
        """The first view whose predicates hold, as MultiView would pick it."""
        for _order, view, _phash in self.get_views(request):
            predicated = getattr(view, "__predicated__", None)
            if predicated is not None and not predicated(context, request):
                continue
            try:
                return view(context, request)
            except PredicateMismatch:
                continue
        raise PredicateMismatch(self.name)


def check_predicates_before_calling(registry: Registry) -> None:
    """Make every MultiView the configuration registered a PrecheckingMultiView."""
    for registration in registry.registeredAdapters():
        if type(registration.factory) is MultiView:
            registration.factory.__class__ = PrecheckingMultiView
