"""A shopper's GET /api/order/ in the fast lane: exactly the router's answer, or the router's.

The lane answers only a plain request with a token the security policy would accept, from
the same kept lists as the router's view; everything else, refusals included, goes to the
router unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from webtest import TestApp

from framesell.adapters.memory import FixedClock
from framesell.application.errors import StorageUnavailable
from framesell.bootstrap import Shop, bootstrap
from framesell.domain.money import Money
from framesell.entrypoints.http import make_app
from framesell.entrypoints.http.fastlane import FastLane, filter_factory
from framesell.entrypoints.http.orders import orders
from framesell.entrypoints.http.security import SHOPPER
from framesell.settings import Settings
from tests.api.conftest import (
    PASSWORD,
    SETTINGS,
    Captured,
    CountingRouter,
    assert_same_answer_and_log_line,
    unique_email,
)

PATH = "/api/order/"
ALLOWED_ORIGIN = "https://shop.example.com"


@dataclass(frozen=True)
class Shopper:
    """A signed-up shopper and the token their log-in gave."""

    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header the frontend sends."""
        return {"Authorization": f"JWT {self.token}"}


@dataclass
class Lanes:
    """One app: through its fast lane (as the ini files serve it) and straight to its router."""

    fast_lane: FastLane
    through_lane: TestApp
    through_router: TestApp
    clock: FixedClock

    @property
    def shop(self) -> Shop:
        """The shop behind both."""
        found: Shop = self.fast_lane.registry.framesell_shop
        return found

    def sign_up(self) -> Shopper:
        """A new shopper, logged in."""
        email = unique_email()
        names = {"first_name": "Foo", "last_name": "Bar", "email": email, "password": PASSWORD}
        self.through_router.post_json("/api/signup/", names, status=201)
        login = {"username": email, "password": PASSWORD}
        token = self.through_router.post_json("/api/api-token-auth/", login, status=200)
        return Shopper(email, token.json["token"])

    def buy(self, shopper: Shopper, description: str = "Brooklyn Bridge") -> dict[str, Any]:
        """The shopper buys a new photo's download through the router; the order placed."""
        product = self.shop.catalog.add_product(
            description, f"https://photos.example.com/{unique_email('photo')}.jpg", Money(10000)
        )
        placed = self.through_router.post_json(
            PATH, {"token": "tok_visa", "product": product.id}, headers=shopper.headers, status=201
        )
        order: dict[str, Any] = placed.json["order"]
        return order

    def count_router_calls(self) -> CountingRouter:
        """From now on, count the requests the fast lane hands to the router."""
        counting = CountingRouter(self.fast_lane.router)
        self.fast_lane.router = counting  # type: ignore[assignment]
        return counting


def _lanes(settings: dict[str, str]) -> Lanes:
    clock = FixedClock(datetime.now(UTC))
    shop = bootstrap(Settings.from_mapping(settings, environ={}), clock=clock)
    fast_lane = filter_factory({})(make_app(shop, settings))
    return Lanes(fast_lane, TestApp(fast_lane), TestApp(fast_lane.router), clock)


@pytest.fixture
def lanes() -> Lanes:
    """The shop in memory, with a CORS origin allowed."""
    return _lanes({**SETTINGS, "framesell.cors_origins": ALLOWED_ORIGIN})


@pytest.fixture(params=["memory", "sqlite"])
def lanes_on_each_storage(request: pytest.FixtureRequest) -> Lanes:
    """The shop in memory, and on SQLite (the kept lists then check the stored version)."""
    settings = dict(SETTINGS)
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
        settings |= {"framesell.storage": "sql", "framesell.database_url": url}
    return _lanes(settings)


@dataclass(frozen=True)
class Case:
    """A shopper with two orders, their list's current ETag, and the app they shop on."""

    lanes: Lanes
    shopper: Shopper
    etag: str

    @property
    def auth(self) -> dict[str, str]:
        """The shopper's Authorization header."""
        return self.shopper.headers

    def forged(self) -> dict[str, str]:
        """The shopper's token with its signature changed."""
        signed, signature = self.shopper.token.rsplit(".", 1)
        first = "B" if signature[0] == "A" else "A"
        return {"Authorization": f"JWT {signed}.{first}{signature[1:]}"}

    def expired(self) -> dict[str, str]:
        """The shopper's token, once the clock has passed its expiry."""
        self.lanes.clock.advance(self.lanes.shop.settings.jwt_lifetime + timedelta(seconds=1))
        return self.auth

    def deleted(self) -> dict[str, str]:
        """The shopper's token, once their account is gone (after their list was kept)."""
        store = self.lanes.shop.uow.store  # type: ignore[attr-defined]
        (user_id,) = [u.id for u in store.tables.users.values() if u.email == self.shopper.email]
        del store.tables.users[user_id]
        return self.auth


# Each variant: the status the router answers, and the request's path and headers.
VARIANTS: dict[str, tuple[int, Callable[[Case], tuple[str, dict[str, str]]]]] = {
    "plain": (200, lambda c: (PATH, c.auth)),
    "current ETag": (304, lambda c: (PATH, {**c.auth, "If-None-Match": c.etag})),
    "Bearer scheme": (200, lambda c: (PATH, {"Authorization": f"Bearer {c.shopper.token}"})),
    "weak ETag": (304, lambda c: (PATH, {**c.auth, "If-None-Match": f"W/{c.etag}"})),
    "stale ETag": (200, lambda c: (PATH, {**c.auth, "If-None-Match": '"0123"'})),
    "ETag in a list": (304, lambda c: (PATH, {**c.auth, "If-None-Match": f'"0123", {c.etag}'})),
    "any ETag": (304, lambda c: (PATH, {**c.auth, "If-None-Match": "*"})),
    "allowed origin": (200, lambda c: (PATH, {**c.auth, "Origin": ALLOWED_ORIGIN})),
    "other origin": (200, lambda c: (PATH, {**c.auth, "Origin": "https://elsewhere.example"})),
    "no Authorization": (403, lambda c: (PATH, {})),
    "malformed Authorization": (403, lambda c: (PATH, {"Authorization": "JWT a b"})),
    "scheme only": (403, lambda c: (PATH, {"Authorization": "JWT"})),
    "unknown scheme": (403, lambda c: (PATH, {"Authorization": f"Token {c.shopper.token}"})),
    "forged token": (403, lambda c: (PATH, c.forged())),
    "expired token": (403, lambda c: (PATH, c.expired())),
    "token of a deleted account": (403, lambda c: (PATH, c.deleted())),
    "query string": (200, lambda c: (f"{PATH}?page=2", c.auth)),
    "no trailing slash": (200, lambda c: ("/api/order", c.auth)),
}
BY_FAST_LANE = {"plain", "current ETag", "Bearer scheme"}


def _arranged(lanes: Lanes, variant: str) -> tuple[int, str, dict[str, str]]:
    shopper = lanes.sign_up()
    lanes.buy(shopper, "First")
    lanes.buy(shopper, "Second")
    etag = lanes.through_router.get(PATH, headers=shopper.headers, status=200).headers["ETag"]
    status, arrange = VARIANTS[variant]
    path, headers = arrange(Case(lanes, shopper, etag))
    return status, path, {"X-Request-ID": f"req-{variant.replace(' ', '-')}", **headers}


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_fast_lane_answers_an_order_list_as_the_router_does(
    lanes: Lanes, logs: Captured, variant: str
) -> None:
    status, path, headers = _arranged(lanes, variant)
    fast = lanes.through_lane.get(path, headers=headers, status="*")
    routed = lanes.through_router.get(path, headers=headers, status="*")
    assert routed.status_int == status
    assert_same_answer_and_log_line(fast, routed, logs)


@pytest.mark.parametrize("variant", VARIANTS)
def test_only_a_plain_order_list_with_a_valid_token_skips_the_router(
    lanes: Lanes, variant: str
) -> None:
    status, path, headers = _arranged(lanes, variant)
    counting = lanes.count_router_calls()
    answer = lanes.through_lane.get(path, headers=headers, status="*")
    assert answer.status_int == status
    assert counting.calls == (0 if variant in BY_FAST_LANE else 1)


def test_the_lane_logs_the_shopper_it_served(lanes: Lanes, logs: Captured) -> None:
    shopper = lanes.sign_up()
    user = lanes.shop.users.find_by_email(shopper.email)
    assert user is not None
    counting = lanes.count_router_calls()
    lanes.through_lane.get(PATH, headers=shopper.headers, status=200)
    line = logs.requests()[-1]
    assert counting.calls == 0
    assert (line["method"], line["path"], line["status"]) == ("GET", PATH, 200)
    assert line["user_id"] == user.id


@pytest.mark.parametrize(
    "request_args",
    [
        {"method": "HEAD"},
        {"method": "POST", "body": b"{}", "content_type": "application/json"},
        {"method": "GET", "body": b"{}", "content_type": "application/json"},
        {"method": "GET", "url": "/api/order/1/"},
        {"method": "GET", "url": "/api/order/./"},
    ],
)
def test_other_order_requests_go_to_the_router(lanes: Lanes, request_args: dict[str, Any]) -> None:
    shopper = lanes.sign_up()
    counting = lanes.count_router_calls()
    args = {"url": PATH, **request_args}
    lanes.through_lane.request(args.pop("url"), headers=shopper.headers, **args, status="*")
    assert counting.calls == 1


def test_a_store_failure_is_answered_by_the_router(
    lanes: Lanes, logs: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopper = lanes.sign_up()
    lanes.buy(shopper)
    lanes.through_router.get(PATH, headers=shopper.headers, status=200)  # kept

    def unavailable(user_id: int) -> Any:
        raise StorageUnavailable()

    monkeypatch.setattr(lanes.shop.orders, "order_list_version", unavailable)
    monkeypatch.setattr(lanes.shop.orders, "list_orders_of_account", unavailable)
    counting = lanes.count_router_calls()
    headers = {**shopper.headers, "X-Request-ID": "req-store-down"}
    fast = lanes.through_lane.get(PATH, headers=headers, status=503)
    assert counting.calls == 1
    routed = lanes.through_router.get(PATH, headers=headers, status=503)
    assert_same_answer_and_log_line(fast, routed, logs)


def test_the_lane_serves_the_list_the_routers_view_kept(
    lanes: Lanes, monkeypatch: pytest.MonkeyPatch
) -> None:
    shopper = lanes.sign_up()
    order = lanes.buy(shopper)
    kept = lanes.through_router.get(PATH, headers=shopper.headers, status=200)
    reads: list[int] = []
    read_list = lanes.shop.orders.list_orders_of_account

    def counted(user_id: int) -> Any:
        reads.append(user_id)
        return read_list(user_id)

    monkeypatch.setattr(lanes.shop.orders, "list_orders_of_account", counted)
    counting = lanes.count_router_calls()
    served = lanes.through_lane.get(PATH, headers=shopper.headers, status=200)
    assert (counting.calls, reads) == (0, [])  # one store: the router's copy, not a new read
    assert served.json == [order]
    assert served.body == kept.body


def test_shoppers_alternating_through_the_lane_each_get_only_their_own_list(
    lanes_on_each_storage: Lanes,
) -> None:
    lanes = lanes_on_each_storage
    alice, bob = lanes.sign_up(), lanes.sign_up()
    alices = [lanes.buy(alice, "Alice's")]
    bobs = [lanes.buy(bob, "Bob's"), lanes.buy(bob, "Bob's second")]
    counting = lanes.count_router_calls()
    etags: dict[str, str] = {}
    for _ in range(3):
        for shopper, theirs in ((alice, alices), (bob, bobs)):
            answer = lanes.through_lane.get(PATH, headers=shopper.headers, status=200)
            assert answer.json == theirs
            etags.setdefault(shopper.email, answer.headers["ETag"])
            assert answer.headers["ETag"] == etags[shopper.email]
    assert counting.calls == 0
    assert etags[alice.email] != etags[bob.email]
    # Each one's current ETag is a 304 for them in the lane, and not for the other.
    for shopper, other in ((alice, bob), (bob, alice)):
        own = {**shopper.headers, "If-None-Match": etags[shopper.email]}
        lanes.through_lane.get(PATH, headers=own, status=304)
        others = {**shopper.headers, "If-None-Match": etags[other.email]}
        answer = lanes.through_lane.get(PATH, headers=others, status=200)
        assert answer.json == (alices if shopper is alice else bobs)
    assert counting.calls == 2  # only the other's ETags went to the router


def test_a_purchase_through_the_router_shows_in_the_lane_at_once(
    lanes_on_each_storage: Lanes,
) -> None:
    lanes = lanes_on_each_storage
    shopper = lanes.sign_up()
    first = lanes.buy(shopper, "First")
    counting = lanes.count_router_calls()
    before = lanes.through_lane.get(PATH, headers=shopper.headers, status=200)
    assert before.json == [first]
    second = lanes.buy(shopper, "Second")
    after = lanes.through_lane.get(PATH, headers=shopper.headers, status=200)
    assert after.json == [first, second]
    assert after.headers["ETag"] != before.headers["ETag"]
    current = {**shopper.headers, "If-None-Match": after.headers["ETag"]}
    lanes.through_lane.get(PATH, headers=current, status=304)
    assert counting.calls == 0  # no GET reached the router (the purchase was made there)


def test_the_order_list_asks_for_nothing_but_a_valid_token() -> None:
    # The lane serves any verified token (then the account's list, or the router's 403 for a
    # vanished account): right only while the view's permission is SHOPPER.
    permissions = [
        args.get("permission") for method, _, args in orders.definitions if method == "GET"
    ]
    assert permissions == [SHOPPER]
