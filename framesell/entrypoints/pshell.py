"""``pshell development.ini``: an interactive shell with the shop at hand.

Named by the ini files' ``[pshell]`` section (``setup = framesell.entrypoints.pshell.setup``).
The shop is the one the app itself built (``registry.framesell_shop``), on the ini's
database and payment gateway, so whatever is done here is done to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from framesell.domain.money import Money


def setup(env: dict[str, Any]) -> Iterator[None]:
    """Put ``shop``, each of its services, ``settings`` and ``Money`` into the shell."""
    shop = env["registry"].framesell_shop
    env["shop"] = shop
    env["settings"] = shop.settings
    for name in ("users", "catalog", "orders", "payments", "idempotency"):
        env[name] = getattr(shop, name)
    env["Money"] = Money
    try:
        yield
    finally:
        shop.close()
