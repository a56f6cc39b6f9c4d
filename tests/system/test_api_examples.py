"""docs/api.md's curl walkthrough, run block by block in bash against a real server."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakestripe.launcher import FakeStripe
from tests.conftest import missing_component
from tests.fixtures.processes import REPOSITORY, AppProcess, framesell_command, new_app

API_DOCUMENT = REPOSITORY / "docs" / "api.md"
DEVELOPMENT_WEBHOOK_SECRET = "whsec_framesell_development_only"


def walkthrough_blocks() -> list[str]:
    """The ``sh`` code blocks of the "Trying it with curl" section, in order."""
    text = API_DOCUMENT.read_text(encoding="utf-8")
    section = text.split("## Trying it with curl", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


@pytest.fixture
def shop(stripe_server: FakeStripe, tmp_path: Path) -> Iterator[AppProcess]:
    """FrameSell under pserve on SQLite, paying at the fake Stripe, with the sample catalog."""
    app = new_app(
        tmp_path,
        "examples",
        {
            "framesell.database_url": f"sqlite:///{tmp_path / 'shop.sqlite'}",
            "framesell.stripe.api_base": stripe_server.url,
            "framesell.stripe.webhook_secret": DEVELOPMENT_WEBHOOK_SECRET,
        },
    )
    framesell_command(app.ini, "migrate")
    framesell_command(app.ini, "seed")
    app.start()
    yield app
    app.stop()


def test_the_walkthrough_covers_every_endpoint_of_the_document() -> None:
    script = "\n".join(walkthrough_blocks())
    for path in (
        "/api/signup/", "/api/api-token-auth/", "/api/me/", "/api/api-token-refresh/",
        "/api/product/", "/api/product/$PRODUCT/", "/api/order/", "/api/order/$ORDER/",
        "/api/order/$ORDER/confirm/", "/api/order/$ORDER/refund/", "/api/product/$NEW/",
        "/api/webhooks/stripe/", "/api/health/", "/api/openapi.json",
        "/api/product/$PRODUCT/formats/", "/api/product/$PRODUCT/file/",
        "/api/order/$CART_ID/download/2/",
        "/api/webhooks/stripe/", "/api/health/", "/api/openapi.json", "/api/admin/orders/",
        "/api/password-reset/",
    ):  # fmt: skip
        assert f'$SHOP{path}"' in script, path
    for method in ("-X PUT", "-X DELETE", "create-admin"):
        assert method in script


def test_every_curl_example_of_the_api_document_works(shop: AppProcess, tmp_path: Path) -> None:
    for tool in ("bash", "curl", "openssl"):
        if shutil.which(tool) is None:
            missing_component(f"{tool} is not installed")
    framesell = Path(sys.executable).parent / "framesell"
    steps = []
    for number, block in enumerate(walkthrough_blocks()):
        block = block.replace("SHOP=http://127.0.0.1:6543", f"SHOP={shop.url}")
        block = block.replace(".venv/bin/framesell", str(framesell))
        steps.append(f"echo '--- block {number}'\n{block}")
    script = tmp_path / "walkthrough.sh"
    script.write_text("set -euo pipefail\n" + "\n".join(steps) + "\necho '--- done'\n")

    done = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=180,
        env={"PATH": f"{framesell.parent}:/usr/bin:/bin", "FRAMESELL_INI": str(shop.ini)},
        check=False,
    )

    output = re.sub(r"\s+", "", done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert output.endswith("---done")
    for answer in (
        '{"success":true}',  # signed up
        '"first_name":"Ada"',  # /api/me/
        '"paymentstatus":"PAID"',  # the order, listed and confirmed
        "304",  # If-None-Match
        '"description":"HarbouratDawn"',  # added by the admin
        "204",  # withdrawn
        '"paymentstatus":"PARTIALLY_REFUNDED"',  # refunded in part…
        '"refunded":25,"items"',  # …$25 of it
        '"paymentstatus":"REFUNDED"',  # then the rest
        '"refunded":100,"items"',
        '"shipping_price":9,"total":267',  # the cart: 2 x $79 + $100 + $9
        "302https://files.example.com/originals/bridge.tif",  # the download link
        '"total":1,"page":1,"per_page":5',  # the admins' order list
        "alinktochooseanewpasswordisonitsway",  # password reset, 202 for any email
        '{"received":true,"applied":false}',  # the signed webhook
        '{"status":"ok","database":"ok"}',
    ):
        assert answer in output, (answer, done.stdout)
