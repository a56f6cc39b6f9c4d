"""The catalog's fast lane answers exactly what Pyramid's router answers, or leaves it to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp

from framesell.domain.models import Product
from framesell.entrypoints.http.fastlane import FastLane
from tests.api.conftest import (
    SETTINGS,
    Captured,
    CountingRouter,
    assert_same_answer_and_log_line,
    served,
)


@pytest.fixture
def shop(add_product: Callable[..., Product]) -> tuple[FastLane, TestApp, TestApp]:
    """One app: through its fast lane, and straight through its router."""
    fast_lane = served({**SETTINGS, "framesell.cors_origins": "https://shop.example.com"})
    for number in range(3):
        fast_lane.registry.framesell_shop.catalog.add_product(
            f"Photo {number}", f"https://photos.example.com/{number}.jpg", add_product().price
        )
    return fast_lane, TestApp(fast_lane), TestApp(fast_lane.router)


def _etag(app: TestApp) -> str:
    return str(app.get("/api/product/").headers["ETag"])


VARIANTS: dict[str, Callable[[str], dict[str, str]]] = {
    "plain": lambda etag: {},
    "current ETag": lambda etag: {"If-None-Match": etag},
    "weak ETag": lambda etag: {"If-None-Match": f"W/{etag}"},
    "stale ETag": lambda etag: {"If-None-Match": '"0123"'},
    "ETag in a list": lambda etag: {"If-None-Match": f'"0123", {etag}'},
    "any ETag": lambda etag: {"If-None-Match": "*"},
    "allowed origin": lambda etag: {"Origin": "https://shop.example.com"},
    "other origin": lambda etag: {"Origin": "https://elsewhere.example.com"},
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_fast_lane_answers_what_the_router_answers(
    shop: tuple[FastLane, TestApp, TestApp],
    logs: Captured,
    variant: str,
) -> None:
    _, through_lane, through_router = shop
    request_id = f"req-{variant.replace(' ', '-')}"
    headers = {"X-Request-ID": request_id, **VARIANTS[variant](_etag(through_lane))}
    fast = through_lane.get("/api/product/", headers=headers, status="*")
    routed = through_router.get("/api/product/", headers=headers, status="*")
    assert_same_answer_and_log_line(fast, routed, logs)


@pytest.mark.parametrize(
    ("variant", "by_fast_lane"),
    [
        ("plain", True),
        ("current ETag", True),
        ("weak ETag", False),
        ("stale ETag", False),
        ("ETag in a list", False),
        ("any ETag", False),
        ("allowed origin", False),
        ("other origin", False),
    ],
)
def test_only_the_plainest_catalog_gets_skip_the_router(
    shop: tuple[FastLane, TestApp, TestApp], variant: str, by_fast_lane: bool
) -> None:
    fast_lane, through_lane, _ = shop
    etag = _etag(through_lane)
    counting = fast_lane.router = CountingRouter(fast_lane.router)  # type: ignore[assignment]
    through_lane.get("/api/product/", headers=VARIANTS[variant](etag), status="*")
    assert counting.calls == (0 if by_fast_lane else 1)


@pytest.mark.parametrize(
    "request_args",
    [
        {"url": "/api/product/?page=2"},
        {"url": "/api/product"},
        {"url": "/api/product/1/"},
        {"url": "/api/order/"},
    ],
)
def test_other_requests_go_to_the_router(
    shop: tuple[FastLane, TestApp, TestApp], request_args: dict[str, Any]
) -> None:
    fast_lane, through_lane, _ = shop
    counting = fast_lane.router = CountingRouter(fast_lane.router)  # type: ignore[assignment]
    through_lane.get(**request_args, status="*")
    through_lane.head("/api/product/", status="*")
    through_lane.post_json("/api/product/", {}, status="*")
    assert counting.calls == 3


def test_a_changed_catalog_is_served_by_the_fast_lane_at_once(
    shop: tuple[FastLane, TestApp, TestApp],
) -> None:
    fast_lane, through_lane, _ = shop
    before = through_lane.get("/api/product/")
    catalog = fast_lane.registry.framesell_shop.catalog
    catalog.withdraw_product(before.json[0]["id"])
    after = through_lane.get("/api/product/", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_int == 200
    assert [p["id"] for p in after.json] == [p["id"] for p in before.json[1:]]
    assert after.headers["ETag"] != before.headers["ETag"]
