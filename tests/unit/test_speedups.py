"""The speed-ups that reach into Pyramid's internals still take effect on the installed Pyramid.

Each test fails if a Pyramid release silently turns one of them into a no-op (or breaks it),
on a tiny app of its own and on the shop's app as ``make_app`` builds it.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.config.views import MultiView
from pyramid.exceptions import PredicateMismatch
from pyramid.interfaces import IRequestFactory
from pyramid.registry import Registry
from pyramid.request import Request
from webtest import TestApp

from framesell import main
from framesell.entrypoints.http.speedups import (
    PrecheckingMultiView,
    bake_request_properties,
    check_predicates_before_calling,
)
from tests.api.conftest import SETTINGS


def _tiny_app(seen: list[Any]) -> tuple[TestApp, Registry]:
    """One path with a POST view (more predicates, so tried first) and a GET view."""

    def get_view(request: Request) -> dict[str, Any]:
        seen.append(type(request))
        return {"answer": request.answer}

    def post_view(request: Request) -> dict[str, Any]:  # pragma: no cover - never chosen
        raise AssertionError("the POST view was called for a GET")

    with Configurator() as config:
        config.add_request_method(lambda request: 42, "answer", reify=True)
        config.add_route("thing", "/thing")
        config.add_view(get_view, route_name="thing", request_method="GET", renderer="json")
        config.add_view(
            post_view,
            route_name="thing",
            request_method="POST",
            request_param="x",
            header="X-Thing",
            renderer="json",
        )
        config.commit()
        bake_request_properties(config.registry)
        check_predicates_before_calling(config.registry)
        return TestApp(config.make_wsgi_app()), config.registry


def _multiviews(registry: Registry) -> list[Any]:
    return [
        registration.factory
        for registration in registry.registeredAdapters()
        if isinstance(registration.factory, MultiView)
    ]


def _count_predicate_mismatches(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    raised: list[object] = []
    original = PredicateMismatch.__init__

    def counting(self: PredicateMismatch, *args: Any, **kwargs: Any) -> None:
        raised.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(PredicateMismatch, "__init__", counting)
    return raised


def test_pyramid_builds_every_request_from_the_one_baked_class() -> None:
    seen: list[Any] = []
    app, registry = _tiny_app(seen)

    assert app.get("/thing").json == {"answer": 42}
    assert app.get("/thing").json == {"answer": 42}

    baked = registry.queryUtility(IRequestFactory)
    assert baked is not None and "answer" in vars(baked)
    # Pyramid made both requests from the registered class, without a subclass per request.
    assert seen == [baked, baked]


def test_pyramid_lets_the_prechecking_multiview_choose_without_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, registry = _tiny_app([])
    views = _multiviews(registry)
    assert views and all(type(view) is PrecheckingMultiView for view in views)
    raised = _count_predicate_mismatches(monkeypatch)

    assert app.get("/thing").json == {"answer": 42}

    # Plain MultiView would call the POST view first and build a PredicateMismatch.
    assert raised == []


def test_without_the_speedup_pyramid_would_raise_a_mismatch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control: the count above means something on this Pyramid."""
    app, registry = _tiny_app([])
    for view in _multiviews(registry):
        view.__class__ = MultiView
    raised = _count_predicate_mismatches(monkeypatch)

    assert app.get("/thing").json == {"answer": 42}

    assert len(raised) == 1


def test_the_shops_app_has_both_speedups(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("FRAMESELL_STORAGE", "FRAMESELL_PAYMENT", "FRAMESELL_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    registry = main({}, **SETTINGS).registry

    baked = registry.queryUtility(IRequestFactory)
    assert baked is not None and "shop" in vars(baked) and "json_body" in vars(baked)
    views = _multiviews(registry)
    assert views and all(type(view) is PrecheckingMultiView for view in views)
