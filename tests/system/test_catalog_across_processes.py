"""Two FrameSell processes on one MariaDB: a catalog change through one reaches the other."""

from __future__ import annotations

import time

from tests.fixtures.processes import call, framesell_command
from tests.system.conftest import Shop

ADMIN_PASSWORD = "admin password for the catalog test"


def test_a_price_change_through_one_process_is_served_by_the_other_within_a_second(
    shop: Shop,
) -> None:
    writer, reader = shop.app("writer"), shop.app("reader")
    email = "catalog-admin@example.com"
    framesell_command(
        writer.ini, "create-admin", email, extra_env={"FRAMESELL_ADMIN_PASSWORD": ADMIN_PASSWORD}
    )
    status, answer, _ = call(
        "POST", f"{writer.url}/api/api-token-auth/", {"username": email, "password": ADMIN_PASSWORD}
    )
    assert status == 200, answer
    admin = {"Authorization": f"JWT {answer['token']}"}
    status, before, headers = call("GET", f"{reader.url}/api/product/")
    assert status == 200 and before[0]["price"] == 59.99
    etag = {name.lower(): value for name, value in headers.items()}["etag"]
    # The reader has the catalog in memory now; an unchanged one is a 304.
    assert call("GET", f"{reader.url}/api/product/", headers={"If-None-Match": etag})[0] == 304

    changed = {**before[0], "price": "10.00"}
    del changed["id"]
    status, answer, _ = call("PUT", f"{writer.url}/api/product/1/", changed, headers=admin)
    assert status == 200, answer
    changed_at = time.monotonic()
    seen_after = None
    while time.monotonic() - changed_at < 5:
        status, now, _ = call("GET", f"{reader.url}/api/product/", headers={"If-None-Match": etag})
        if status == 200 and now[0]["price"] == 10:
            seen_after = time.monotonic() - changed_at
            break
        time.sleep(0.05)
    assert seen_after is not None and seen_after < 1.0, seen_after
