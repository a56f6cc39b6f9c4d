"""Real processes for the browser tests: the fake Stripe, the shop, and Debian's Chromium.

One fake Stripe and one FrameSell server (``pserve`` on a generated ini that inherits
``development.ini``, with a fresh SQLite file) per session; one Chromium per session and a
new browser context per test. Every test page fails its test on an ``alert()`` (or any other
dialog), on an uncaught script error or on a console error other than a failed request, and
leaves a screenshot of its last screen in ``test-artifacts/e2e/<test name>.png``.

``check_accessibility(page)`` runs axe-core (vendored from npm in ``tests/e2e/vendor/``,
injected into every test page before the shop's own scripts, so its Content-Security-Policy
does not apply) on what the page shows and fails the test on any violation.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing_component
from tests.e2e.photos import PHOTO_HOST, photo_svg, photo_url
from tests.fixtures.network import free_port
from tests.fixtures.processes import AppProcess, framesell_command

REPOSITORY = Path(__file__).resolve().parents[2]
ARTIFACTS = REPOSITORY / "test-artifacts" / "e2e"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
XSS_DESCRIPTION = "<img src=x onerror=alert(1)>"
# The catalog every browser test sees, in id order; prices as the API writes them.
CATALOG = [
    {"description": "Brooklyn Bridge at Dusk", "price": "100", "url": photo_url("brooklyn-bridge")},
    {"description": "Scarlet Macaw", "price": "59.99", "url": photo_url("scarlet-macaw")},
    {"description": "Singapore by Night", "price": "150", "url": photo_url("singapore-night")},
    {"description": "Alpine Lake", "price": "75", "url": photo_url("alpine-lake")},
    {"description": "Desert Dunes", "price": "120", "url": photo_url("desert-dunes")},
    {"description": XSS_DESCRIPTION, "price": "25", "url": f"{PHOTO_HOST}/missing.svg"},
]
SERVER_START_SECONDS = 60.0
# Generated next to the fresh database; inherits everything else from development.ini.
SHOP_INI = """\
[pipeline:main]
pipeline =
    catalog_fast_lane
    framesell

[filter:catalog_fast_lane]
use = config:{development_ini}#catalog_fast_lane

[app:framesell]
use = config:{development_ini}#framesell
framesell.auto_migrate = false
framesell.stripe.js_url = {stripe_url}/js.stripe.com/v3/
# Every browser test signs up from 127.0.0.1; sign-up's per-address limit (20 an hour,
# tested in tests/api) would stop the suite part of the way through.
framesell.signup.max_per_address = 1000

[server:main]
use = egg:framesell#main
host = 127.0.0.1
port = {port}
threads = 8

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
"""


@dataclass(frozen=True)
class Shop:
    """A running FrameSell server: its address, its settings file and what it sells."""

    url: str
    ini: Path
    settings: dict[str, str]
    products: list[dict[str, Any]]
    env: dict[str, str] = field(default_factory=dict)
    mail: Any = None  # the local SMTP server (fakestripe.devmail) the shop sends to

    def product(self, description: str) -> dict[str, Any]:
        """The catalog entry (as GET /api/product/ gives it) with this description."""
        return next(p for p in self.products if p["description"] == description)

    def mails_to(self, address: str, count: int = 1, timeout: float = 10.0) -> list[Any]:
        """The mails the local SMTP server kept for ``address`` once there are ``count``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.mail.wait_for(0) if m["To"] == address]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"{len(found)} mails to {address}, not {count}"
                return found
            time.sleep(0.05)

    def make_admin(self, email: str) -> None:
        """Make an existing account an admin, as ``framesell create-admin`` does."""
        _framesell(self.ini, self.env, "create-admin", email)

    def api(self, method: str, path: str, token: str | None = None) -> Any:
        """Call the API directly (outside the browser) and return the decoded JSON."""
        request = urllib.request.Request(self.url + path, method=method)
        if token:
            request.add_header("Authorization", f"JWT {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


def _shop_environment(
    database_url: str, stripe_url: str, port: int, mail_port: int
) -> dict[str, str]:
    """The FRAMESELL_* variables the test server and its commands read (the developer's own
    are left out by tests/fixtures/processes.py)."""
    return {
        "FRAMESELL_DATABASE_URL": database_url,
        "FRAMESELL_STRIPE_API_BASE": stripe_url,
        "FRAMESELL_PORT": str(port),
        "FRAMESELL_SMTP_PORT": str(mail_port),
        "FRAMESELL_SHOP_URL": f"http://127.0.0.1:{port}/",
        "PYTHONUNBUFFERED": "1",
    }


def _framesell(ini: Path, env: dict[str, str], *args: str) -> None:
    try:
        framesell_command(ini, *args, extra_env=env)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def e2e_stripe() -> Iterator[Any]:
    """A fake Stripe of the browser tests' own, in its own process."""
    try:
        from fakestripe.launcher import FakeStripeDidNotStart, start_fake_stripe
    except ImportError as error:
        missing_component(f"the fake Stripe cannot be imported ({error})")
    try:
        handle = start_fake_stripe(port=0)
    except (FakeStripeDidNotStart, OSError) as error:
        missing_component(f"the fake Stripe did not start ({error})")
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def shop(e2e_stripe: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """FrameSell under pserve on a free port: fresh SQLite, migrated, with the test catalog."""
    folder = tmp_path_factory.mktemp("shop")
    port = free_port()
    ini = folder / "shop.ini"
    ini.write_text(
        SHOP_INI.format(
            development_ini=REPOSITORY / "development.ini", stripe_url=e2e_stripe.url, port=port
        )
    )
    from fakestripe.devmail import DevMailServer

    mail = DevMailServer(folder / "mail", port=free_port(), announce=lambda line: None).start()
    env = _shop_environment(
        f"sqlite:///{folder / 'shop.sqlite'}", e2e_stripe.url, port, mail.port
    )
    catalog = folder / "catalog.json"
    catalog.write_text(json.dumps(CATALOG))
    app = AppProcess(ini=ini, port=port, log_path=folder / "pserve.log", extra_env=env)
    try:
        _framesell(ini, env, "migrate")
        _framesell(ini, env, "products", "import", str(catalog))
        try:
            app.start(timeout=SERVER_START_SECONDS)
        except RuntimeError as error:
            pytest.fail(f"the shop did not start: {error}", pytrace=False)
        from framesell.entrypoints.cli import app_settings

        settings = app_settings(str(ini))
        with urllib.request.urlopen(f"{app.url}/api/product/", timeout=10) as response:
            products = json.load(response)
        yield Shop(
            url=app.url, ini=ini, settings=settings, products=products, env=env, mail=mail
        )
    finally:
        app.stop()
        mail.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; one per session."""
    if not Path(CHROMIUM).exists():
        missing_component(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        missing_component(f"Playwright for Python cannot be imported ({error})")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageWatch:
    """What went wrong in a page that should not have: dialogs, script and console errors."""

    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Every recorded problem, as text; a failed request (402, 403 …) is not one."""
        unexpected = [m for m in self.console_errors if not m.startswith("Failed to load resource")]
        return (
            [f"dialog: {d}" for d in self.dialogs]
            + [f"uncaught error: {e}" for e in self.page_errors]
            + [f"console error: {c}" for c in unexpected]
        )


def _serve_photos(route: Any) -> None:
    name = route.request.url.rsplit("/", 1)[-1].removesuffix(".svg")
    picture = photo_svg(name)
    if picture is None:
        route.fulfill(status=404, body="no such photo")
    else:
        route.fulfill(status=200, content_type="image/svg+xml", body=picture)


def _artifact_name(node_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node_name).strip("_")


@pytest.fixture
def open_page(
    browser: Any, shop: Shop, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """``open_page(**context_options)``: a page in a fresh context, at the shop, watched."""
    opened: list[tuple[Any, Any, PageWatch]] = []

    def open_(**context_options: Any) -> Any:
        context = browser.new_context(base_url=shop.url, **context_options)
        context.set_default_timeout(15_000)
        context.route(f"{PHOTO_HOST}/**", _serve_photos)
        context.add_init_script(path=str(AXE))
        page = context.new_page()
        watch = PageWatch()

        def on_dialog(dialog: Any) -> None:
            watch.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        page.on(
            "console",
            lambda message: message.type == "error" and watch.console_errors.append(message.text),
        )
        opened.append((context, page, watch))
        return page

    yield open_

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for number, (context, page, watch) in enumerate(opened):
        suffix = f"-{number + 1}" if number else ""
        try:
            page.mouse.move(0, 0)  # no hover effect left on whatever the last click hit
            page.screenshot(
                path=ARTIFACTS / f"{_artifact_name(request.node.name)}{suffix}.png",
                animations="disabled",
            )
        except Exception as error:  # the picture is for people, not a check
            # Chromium sometimes cannot capture a page just after a download (seen under
            # load); the test's own assertions already ran, so a missing picture only warns.
            warnings.warn(f"no screenshot of {request.node.name}: {error}", stacklevel=1)
        finally:
            context.close()
        problems += watch.problems()
    if problems:
        pytest.fail("the page misbehaved:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def page(open_page: Callable[..., Any]) -> Any:
    """A desktop-sized page (1280x800) at the shop, in a context of its own."""
    return open_page(viewport={"width": 1280, "height": 800})


# The rules of WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
  return result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}"""


def check_accessibility(page: Any, what: str) -> None:
    """Fail the test if axe-core finds any accessibility violation in what the page shows."""
    page.wait_for_function("() => typeof window.axe === 'object'")
    # Colours are judged at rest, not halfway through a button's hover transition.
    page.emulate_media(reduced_motion="reduce")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
    violations = page.evaluate(RUN_AXE, AXE_TAGS)
    assert not violations, f"{what}: " + "\n".join(violations)
