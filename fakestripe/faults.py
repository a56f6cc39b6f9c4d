"""Fault injection for tests: make the fake Stripe answer slowly, as a congested Stripe would.

Not a Stripe behaviour: a control route that tests use to make Stripe do the work and then
answer later than the shop's client timeout. ``POST /_fakestripe/faults`` with a JSON body
``{"slow_seconds": 3, "times": 1, "path_prefix": "/v1/payment_intents"}`` arms it; the next
``times`` matching POSTs are processed normally (and remembered under their idempotency
keys), and only their answers are held back for ``slow_seconds``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from fakestripe.extensions import Handler

CONTROL_PATH = "/_fakestripe/faults"


@dataclass
class _Slowdown:
    seconds: float = 0.0
    times: int = 0
    path_prefix: str = "/v1/payment_intents"


def install_fault_injection(app: web.Application) -> None:
    """Add the control route and the outermost middleware that delays armed answers."""
    slowdown = _Slowdown()

    async def arm(request: web.Request) -> web.Response:
        data = await request.json()
        slowdown.seconds = float(data.get("slow_seconds", 0))
        slowdown.times = int(data.get("times", 1))
        slowdown.path_prefix = str(data.get("path_prefix", "/v1/payment_intents"))
        return web.json_response({"armed": True, "times": slowdown.times})

    @web.middleware
    async def slow_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == CONTROL_PATH and request.method == "POST":
            return await arm(request)  # before localstripe's API-key check
        matches = (
            request.method == "POST"
            and request.path.startswith(slowdown.path_prefix)
            and slowdown.times > 0
        )
        if not matches:
            return await handler(request)
        slowdown.times -= 1
        response = await handler(request)  # the work is done (and saved for replays) …
        await asyncio.sleep(slowdown.seconds)  # … and only the answer is late
        return response

    app.middlewares.insert(0, slow_answers)
