"""``make run``'s launcher with the fake Stripe on another port: the shop follows it everywhere."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.network import free_port
from tests.fixtures.processes import REPOSITORY, _environment, call, framesell_command

DEVELOPMENT_INI = REPOSITORY / "development.ini"


@dataclass
class Launched:
    """The shop and the fake Stripe that ``python -m fakestripe.devrun`` started."""

    shop: str
    stripe_port: int


def fetch(url: str) -> tuple[str, dict[str, str]]:
    """GET a URL: its text and headers."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode(), dict(response.headers)


@pytest.fixture
def launched(tmp_path: Path) -> Iterator[Launched]:
    """development.ini under the launcher, the fake Stripe on a free port (not 8420)."""
    stripe_port, shop_port, mail_port = free_port(), free_port(), free_port()
    database = {"FRAMESELL_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite'}"}
    framesell_command(DEVELOPMENT_INI, "migrate", extra_env=database)
    framesell_command(DEVELOPMENT_INI, "seed", extra_env=database)
    log = (tmp_path / "devrun.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "fakestripe.devrun", "--ini", str(DEVELOPMENT_INI),
         "--port", str(stripe_port), "--mail-folder", str(tmp_path / "mail")],
        env={**_environment(), **database, "FRAMESELL_PORT": str(shop_port),
             "FRAMESELL_SMTP_PORT": str(mail_port)},
        cwd=REPOSITORY, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    shop = f"http://127.0.0.1:{shop_port}"
    try:
        deadline = time.monotonic() + 60
        while not _up(shop):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make run's launcher did not start:\n{_log(tmp_path)}")
            time.sleep(0.2)
        yield Launched(shop=shop, stripe_port=stripe_port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _up(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/api/health/", timeout=2).close()
    except OSError:
        return False
    return True


def _log(folder: Path) -> str:
    return (folder / "devrun.log").read_text(errors="replace")


def test_the_page_loads_stripe_js_from_the_fake_stripes_port_and_its_policy_allows_it(
    launched: Launched,
) -> None:
    stripe = f"http://127.0.0.1:{launched.stripe_port}"

    config, _ = fetch(f"{launched.shop}/config.js")
    _, page_headers = fetch(f"{launched.shop}/")
    stripe_js, _ = fetch(f"{stripe}/js.stripe.com/v3/")

    assert f'"stripeJsUrl": "{stripe}/js.stripe.com/v3/"' in config
    assert "8420" not in config
    policy = page_headers["Content-Security-Policy"]
    assert f"script-src 'self' {stripe};" in policy
    assert f"frame-src {stripe};" in policy
    assert f"connect-src 'self' {stripe};" in policy
    assert "Stripe" in stripe_js


def test_payments_go_to_the_fake_stripe_on_its_port_and_mails_to_var_mail(
    launched: Launched, tmp_path: Path
) -> None:
    email = f"port-{launched.stripe_port}@example.com"
    person = {"first_name": "A", "last_name": "B", "email": email, "password": "password one"}
    call("POST", f"{launched.shop}/api/signup/", person)
    credentials = {"username": email, "password": "password one"}
    _, login, _ = call("POST", f"{launched.shop}/api/api-token-auth/", credentials)
    auth = {"Authorization": f"JWT {login['token']}"}

    status, body, _ = call(
        "POST", f"{launched.shop}/api/order/", {"token": "tok_visa", "product": 1}, headers=auth
    )

    assert (status, body["order"]["paymentstatus"]) == (201, "PAID")
    # The local SMTP server kept the shopper's confirmation and the owner's sale notice.
    deadline = time.monotonic() + 10
    while len(list((tmp_path / "mail").glob("*.eml"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    kept = sorted((tmp_path / "mail").glob("*.eml"))
    recipients = sorted(m.read_text().split("To: ", 1)[1].split("\n", 1)[0] for m in kept)
    assert recipients == sorted([email, "owner@framesell.localhost"])
    assert "kept in" in _log(tmp_path) and str(tmp_path / "mail") in _log(tmp_path)


def test_the_shop_under_development_ini_logs_readable_lines(
    launched: Launched, tmp_path: Path
) -> None:
    fetch(f"{launched.shop}/api/product/1/")
    deadline = time.monotonic() + 10
    while "GET /api/product/1/ 200" not in _log(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)

    (line,) = [line for line in _log(tmp_path).splitlines() if "GET /api/product/1/ 200" in line]
    assert "INFO  [framesell.access] GET /api/product/1/ 200  duration_ms=" in line
    assert "request_id=" in line
    assert '{"time"' not in _log(tmp_path)
