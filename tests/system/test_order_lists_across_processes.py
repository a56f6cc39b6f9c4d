"""Two FrameSell processes on one MariaDB: each keeps shoppers' order lists, none serves a stale
or another shopper's list."""

from __future__ import annotations

from typing import Any

from tests.fixtures.processes import call, framesell_command
from tests.system.conftest import Shop

ADMIN_PASSWORD = "admin password for the order list test"


def _list(url: str, auth: dict[str, str], etag: str | None = None) -> tuple[int, Any, str]:
    headers = dict(auth) if etag is None else {**auth, "If-None-Match": etag}
    status, answer, answer_headers = call("GET", f"{url}/api/order/", headers=headers)
    assert status in (200, 304), answer
    return status, answer, {k.lower(): v for k, v in answer_headers.items()}["etag"]


def test_a_purchase_and_a_refund_through_one_process_are_in_the_others_next_list(
    shop: Shop,
) -> None:
    writer, reader = shop.app("writer"), shop.app("reader")
    alice = shop.shopper(writer, "alice-lists@example.com")
    bob = shop.shopper(writer, "bob-lists@example.com")
    # The reader keeps both (empty) lists.
    status, listed, alices_empty = _list(reader.url, alice)
    assert (status, listed) == (200, [])
    assert _list(reader.url, bob)[:2] == (200, [])

    status, placed, _ = shop.buy(writer, alice)
    assert status == 201, placed
    order = placed["order"]
    status, listed, alices_etag = _list(reader.url, alice, alices_empty)
    assert (status, listed) == (200, [order])
    assert _list(reader.url, alice, alices_etag)[0] == 304
    # Bob's kept list on the reader is his own, whatever Alice's did.
    assert _list(reader.url, bob, alices_etag)[:2] == (200, [])

    status, bobs, _ = shop.buy(writer, bob)
    assert status == 201, bobs
    assert _list(reader.url, bob)[:2] == (200, [bobs["order"]])
    assert _list(reader.url, alice, alices_etag)[0] == 304

    email = "lists-admin@example.com"
    framesell_command(
        writer.ini, "create-admin", email, extra_env={"FRAMESELL_ADMIN_PASSWORD": ADMIN_PASSWORD}
    )
    status, login, _ = call(
        "POST", f"{writer.url}/api/api-token-auth/", {"username": email, "password": ADMIN_PASSWORD}
    )
    assert status == 200, login
    admin = {"Authorization": f"JWT {login['token']}"}
    status, refunded, _ = call(
        "POST", f"{writer.url}/api/order/{order['id']}/refund/", headers=admin
    )
    assert status == 200, refunded
    status, listed, _ = _list(reader.url, alice, alices_etag)
    assert status == 200
    assert [(o["id"], o["paymentstatus"]) for o in listed] == [(order["id"], "REFUNDED")]
    assert _list(reader.url, bob)[:2] == (200, [bobs["order"]])
