"""The composition root builds each service once."""

from __future__ import annotations

from framesell.bootstrap import bootstrap
from framesell.settings import Settings


def test_the_health_service_is_built_once() -> None:
    settings = {"framesell.storage": "memory", "framesell.payment": "fake"}
    shop = bootstrap(Settings.from_mapping({**settings, "framesell.jwt.secret": "s"}, {}))
    assert shop.health is shop.health
    assert shop.health.check().ok
