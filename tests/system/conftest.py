"""Real processes: FrameSell under pserve, the fake Stripe, MariaDB, and faults between them."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from fakestripe.faults import CONTROL_PATH
from fakestripe.launcher import FakeStripe, start_fake_stripe
from tests.conftest import missing_component
from tests.fixtures.network import TcpProxy
from tests.fixtures.processes import AppProcess, call, framesell_command, new_app
from tests.fixtures.stripe import StripeLedger

pytestmark = pytest.mark.slow

CATALOG = [{"description": "Brooklyn Bridge", "url": "https://x.example/b.jpg", "price": "59.99"}]
PASSWORD = "correct horse battery"


@pytest.fixture
def stripe_server() -> Iterator[FakeStripe]:
    """A fresh fake Stripe per test, so PaymentIntents can be counted exactly."""
    try:
        handle = start_fake_stripe(0)
    except Exception as error:  # any failure to start is a missing component
        missing_component(f"the fake Stripe did not start: {error}")
        raise
    yield handle
    handle.stop()


@pytest.fixture
def stripe_link(stripe_server: FakeStripe) -> Iterator[TcpProxy]:
    """The app's only way to the fake Stripe: a link a test can cut and restore."""
    proxy = TcpProxy("127.0.0.1", stripe_server.port)
    yield proxy
    proxy.cut()


@pytest.fixture
def ledger(stripe_server: FakeStripe) -> StripeLedger:
    """What the fake Stripe knows: PaymentIntents and charges per order."""
    return StripeLedger(stripe_server.url)


def slow_down_stripe(stripe_server: FakeStripe, seconds: float, times: int) -> None:
    """Make the next ``times`` PaymentIntent calls succeed but answer ``seconds`` late."""
    body = json.dumps({"slow_seconds": seconds, "times": times}).encode()
    request = urllib.request.Request(
        stripe_server.url + CONTROL_PATH,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


class Shop:
    """Builds app processes on one database and one fake Stripe link, and shops through them."""

    def __init__(
        self, folder: Path, database_urls: list[str], stripe_base: str
    ) -> None:
        self.folder = folder
        self.database_url = database_urls[0]
        self.node_urls = database_urls
        self.stripe_base = stripe_base
        self.apps: list[AppProcess] = []

    def app(self, name: str = "app", **settings: str) -> AppProcess:
        """A started app process; settings are ``framesell.*`` keys without the prefix.

        On a Galera cluster each new process connects to the next node in turn, so the
        first two processes of a test run on different nodes.
        """
        url = self.node_urls[len(self.apps) % len(self.node_urls)]
        process = new_app(
            self.folder,
            name,
            {
                "framesell.database_url": url,
                "framesell.stripe.api_base": self.stripe_base,
                **{f"framesell.{key}": value for key, value in settings.items()},
            },
        )
        self.apps.append(process)
        return process.start()

    def cli(self, app: AppProcess, *args: str) -> str:
        """``framesell -c <that app's ini> ...``."""
        return framesell_command(app.ini, *args)

    def shopper(self, app: AppProcess, email: str) -> dict[str, str]:
        """Sign up and log in; returns the Authorization header."""
        body = {"first_name": "Foo", "last_name": "Bar", "email": email, "password": PASSWORD}
        assert call("POST", f"{app.url}/api/signup/", body)[0] == 201
        status, answer, _ = call(
            "POST", f"{app.url}/api/api-token-auth/", {"username": email, "password": PASSWORD}
        )
        assert status == 200, answer
        return {"Authorization": f"JWT {answer['token']}"}

    def buy(
        self,
        app: AppProcess,
        auth: dict[str, str],
        *,
        key: str | None = None,
        token: str = "pm_card_visa",
        product: int = 1,
        timeout: float = 60.0,
    ) -> tuple[int, Any, dict[str, str]]:
        """POST /api/order/ for the catalog's first product."""
        headers = dict(auth)
        if key is not None:
            headers["Idempotency-Key"] = key
        return call(
            "POST",
            f"{app.url}/api/order/",
            {"token": token, "product": product},
            headers=headers,
            timeout=timeout,
        )

    def orders(self, app: AppProcess, auth: dict[str, str]) -> list[dict[str, Any]]:
        """GET /api/order/."""
        status, answer, _ = call("GET", f"{app.url}/api/order/", headers=auth)
        assert status == 200, answer
        return list(answer)

    def stop_all(self) -> None:
        """Stop every app process started."""
        for app in self.apps:
            app.stop()


GALERA = pytest.param("galera", marks=pytest.mark.galera)


@pytest.fixture(params=["mysql"])
def database(request: pytest.FixtureRequest) -> list[str]:
    """A scratch database: on the MariaDB server (one URL), or on Galera (one URL per node).

    A test runs on both with ``@pytest.mark.parametrize("database", ["mysql", GALERA],
    indirect=True)``.
    """
    if request.param == "galera":
        return list(request.getfixturevalue("galera_urls"))
    return [request.getfixturevalue("mysql_url")]


@pytest.fixture
def shop(tmp_path: Path, database: list[str], stripe_link: TcpProxy) -> Iterator[Shop]:
    """A shop on a scratch database, its catalog imported by the CLI."""
    built = Shop(tmp_path, database, f"http://{stripe_link.address}")
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    seed = new_app(
        tmp_path,
        "seed",
        {"framesell.database_url": database[0], "framesell.stripe.api_base": built.stripe_base},
    )
    framesell_command(seed.ini, "products", "import", str(catalog))
    yield built
    built.stop_all()


@pytest.fixture
def database_link(mysql_url: str) -> Iterator[Callable[[], tuple[TcpProxy, str]]]:
    """A TcpProxy to MariaDB and the scratch database's URL through it."""
    proxies: list[TcpProxy] = []

    def make() -> tuple[TcpProxy, str]:
        url = make_url(mysql_url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 3306)
        proxies.append(proxy)
        through = url.set(host="127.0.0.1", port=proxy.port)
        return proxy, through.render_as_string(hide_password=False)

    yield make
    for proxy in proxies:
        proxy.cut()
