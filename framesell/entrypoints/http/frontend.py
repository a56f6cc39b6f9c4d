"""Development convenience: the static shop at ``/`` and its ``/config.js`` from settings."""

from __future__ import annotations

import json

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.static import static_view


def frontend_config(request: Request) -> Response:
    """The frontend's settings: same-origin API, publishable key, Stripe.js URL, shipping."""
    settings = request.shop.settings
    config = {
        "apiBase": "",
        "stripePublishableKey": settings.stripe_publishable_key,
        "stripeJsUrl": settings.stripe_js_url,
        # For the cart's estimate only: the server computes every order's total itself.
        "shippingPrice": settings.shipping_cents / 100,
    }
    body = f"window.FRAMESELL_CONFIG = {json.dumps(config)};\n"
    response = Response(body=body.encode(), content_type="text/javascript", charset="utf-8")
    response.cache_control = "no-cache"
    return response


def include_frontend(config: Configurator, frontend_dir: str) -> None:
    """Serve ``frontend_dir`` at ``/`` behind every API route (development only)."""
    config.add_route("frontend_config", "/config.js")
    config.add_view(frontend_config, route_name="frontend_config")
    config.add_route("frontend", "/*subpath")
    config.add_view(
        static_view(frontend_dir, use_subpath=True, cache_max_age=0), route_name="frontend"
    )
