"""Builds localstripe's app with the extensions and serves it until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

READY_PREFIX = "fakestripe ready on "


def create_app() -> web.Application:
    """Return localstripe's aiohttp app with every extension installed (once per process)."""
    from localstripe import server as localstripe_server

    from fakestripe.extensions import install_all
    from fakestripe.faults import install_fault_injection

    app = install_all(localstripe_server.app)
    install_fault_injection(app)
    return app


async def serve(host: str, port: int, *, access_log: bool = True) -> None:
    """Serve the fake Stripe on host:port (0 picks a free port) until SIGINT or SIGTERM."""
    app = create_app()
    logger = logging.getLogger("aiohttp.access")
    if access_log:
        logger.setLevel(logging.INFO)
        logger.addHandler(logging.StreamHandler(sys.stderr))
    runner = web.AppRunner(app, access_log=logger if access_log else None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        bound_port = runner.addresses[0][1]
        shown_host = f"[{host}]" if ":" in host else host
        print(f"{READY_PREFIX}http://{shown_host}:{bound_port}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
