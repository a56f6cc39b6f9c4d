"""The PasteDeploy server runner: waitress, with FRAMESELL_PORT overriding the ini's port."""

from __future__ import annotations

import os
from typing import Any

import waitress


def run(wsgi_app: Any, global_conf: dict[str, Any], **settings: Any) -> None:
    """Serve the app with waitress until interrupted (``pserve`` calls this)."""
    host = settings.pop("host", "127.0.0.1")
    port = os.environ.get("FRAMESELL_PORT") or settings.pop("port", "6543")
    settings.pop("port", None)
    threads = int(settings.pop("threads", 8))
    waitress.serve(wsgi_app, host=host, port=int(port), threads=threads, **settings)
