"""``/api/docs/``: Swagger UI over ``/api/openapi.json``, from files shipped in the package.

Swagger UI is vendored from npm (``frontend/package.json`` pins ``swagger-ui-dist``;
``npm run vendor`` copies it to ``framesell/entrypoints/data/apidocs/vendor/``). The page
is not an API operation, so it is not in the OpenAPI document; it gets its own
Content-Security-Policy (``tweens.API_DOCS_CONTENT_SECURITY_POLICY``).
"""

from __future__ import annotations

from importlib import resources

from pyramid.config import Configurator
from pyramid.static import static_view

from framesell.entrypoints.http.security import PUBLIC

API_DOCS_PATH = "/api/docs/"
API_DOCS_ROUTE = "api_docs"


def apidocs_directory() -> str:
    """The folder holding the page, its script and the vendored Swagger UI."""
    return str(resources.files("framesell.entrypoints").joinpath("data/apidocs"))


def includeme(config: Configurator) -> None:
    """Serve the interactive API page and its files under ``/api/docs/``."""
    config.add_route(API_DOCS_ROUTE, API_DOCS_PATH + "*subpath")
    config.add_view(
        static_view(apidocs_directory(), use_subpath=True, cache_max_age=3600),
        route_name=API_DOCS_ROUTE,
        request_method=("GET", "HEAD"),
        permission=PUBLIC,
    )
