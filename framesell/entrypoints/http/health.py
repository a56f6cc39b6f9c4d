"""GET /api/health/: liveness and a database check, for a load balancer."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from framesell.entrypoints.http.errors import Endpoint
from framesell.entrypoints.http.openapi import responses
from framesell.entrypoints.http.response_schemas import HealthJson
from framesell.entrypoints.http.security import PUBLIC

health = Endpoint(
    name="health",
    path="/api/health/",
    description="Whether the shop is up and its database answers (503 when it does not).",
)


@health.get(permission=PUBLIC)
@responses({200: HealthJson, 503: HealthJson})
def show_health(request: Request) -> dict[str, Any]:
    """200 ``{"status": "ok", "database": "ok"}``, or 503 when the database is unreachable."""
    report = request.shop.health.check()
    request.response.cache_control = "no-store"
    if not report.ok:
        request.response.status = 503
    return {
        "status": "ok" if report.ok else "error",
        "database": "ok" if report.database_ok else "unavailable",
    }
