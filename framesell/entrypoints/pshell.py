"""``pshell development.ini``: an interactive shell with the shop's services at hand.

Named by the ini files' ``[pshell]`` section (``setup = framesell.entrypoints.pshell.setup``).
The services are the ones the app itself built (``registry.framesell_services``), on the
ini's database and payment gateway, so whatever is done here is done to that shop.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from framesell.domain.money import Money


def setup(env: dict[str, Any]) -> Iterator[None]:
    """Put ``services``, each service, ``settings`` and ``Money`` into the shell."""
    services = env["registry"].framesell_services
    env["services"] = services
    env["settings"] = services.settings
    for name in ("users", "catalog", "orders", "payments", "requests"):
        env[name] = getattr(services, name)
    env["Money"] = Money
    try:
        yield
    finally:
        services.close()
