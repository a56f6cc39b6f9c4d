"""The PasteDeploy server runner: waitress, with FRAMESELL_PORT overriding the ini's port."""

from __future__ import annotations

import os
from typing import Any

import waitress

from framesell.entrypoints.http.tweens import MAX_BODY_BYTES


def waitress_options(settings: dict[str, Any]) -> dict[str, Any]:
    """waitress's keyword arguments for the ``[server:main]`` settings, with FrameSell's defaults.

    - ``clear_untrusted_proxy_headers = false``: waitress would otherwise delete
      ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from every request whose peer is not
      its own single ``trusted_proxy``; FrameSell reads them itself, only from the peers
      in ``framesell.trusted_proxies`` (addresses or networks), right to left.
    - ``max_request_body_size``: the app's own limit (64 KiB), so waitress refuses a larger
      body instead of buffering up to its default of 1 GiB first.
    """
    options = dict(settings)
    options.pop("host", None)
    options.pop("port", None)
    options["threads"] = int(options.pop("threads", 8))
    options.setdefault("clear_untrusted_proxy_headers", False)
    options.setdefault("max_request_body_size", MAX_BODY_BYTES)
    return options


def run(wsgi_app: Any, global_conf: dict[str, Any], **settings: Any) -> None:
    """Serve the app with waitress until interrupted (``pserve`` calls this)."""
    host = settings.get("host", "127.0.0.1")
    port = os.environ.get("FRAMESELL_PORT") or settings.get("port", "6543")
    waitress.serve(wsgi_app, host=host, port=int(port), **waitress_options(settings))
