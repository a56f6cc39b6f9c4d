"""FrameSell: an online shop for photo prints, paid by card through Stripe."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyramid.router import Router


def main(global_config: dict[str, Any] | None, **settings: Any) -> Router:
    """The Pyramid/PasteDeploy app factory: settings → adapters → the shop → WSGI app.

    The ini files' ``[pipeline:main]`` puts the fast lane (the catalog's and the order
    list's plainest GETs) in front of it (``egg:framesell#catalog_fast_lane``).
    """
    from framesell.bootstrap import bootstrap
    from framesell.entrypoints.http import make_app
    from framesell.settings import Settings

    shop = bootstrap(Settings.from_mapping(settings))
    return make_app(shop, settings)
