"""Every reach into Pyramid's internals, in one place, each pinned by a test.

Both speed-ups lean on how Pyramid builds requests and picks among a path's views, not on
its public API; ``tests/unit/test_speedups.py`` fails if an installed Pyramid stops
honouring either. What each one saves is measured in bench/RESULTS.md.
"""

from __future__ import annotations

from typing import Any

from pyramid.config.views import MultiView
from pyramid.exceptions import PredicateMismatch
from pyramid.interfaces import IRequestExtensions, IRequestFactory
from pyramid.registry import Registry
from pyramid.request import Request


def bake_request_properties(registry: Registry) -> None:
    """Put the request properties (ours, Cornice's) on one request class, made once.

    Pyramid otherwise adds them to every request by building a new subclass per request
    (``InstancePropertyHelper.apply_properties``), a large share of a cheap request's time
    (bench/RESULTS.md). The properties are the same descriptors either way; only the class
    is shared.
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
