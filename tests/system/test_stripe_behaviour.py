"""Stripe's own deliveries through real processes: refunds made in the dashboard, partial
ones included, disputes, and a shopper's spent card token (pserve, fake Stripe, MariaDB)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa

from fakestripe.launcher import FakeStripe
from fakestripe.webhooks import WEBHOOK_EVENTS, register_webhook
from tests.fixtures.processes import WEBHOOK_SECRET, AppProcess, call, framesell_command
from tests.fixtures.stripe import StripeLedger
from tests.system.conftest import PASSWORD, Shop

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.stripe]


def delivering(shop: Shop, stripe_server: FakeStripe) -> AppProcess:
    """An app process the fake Stripe delivers its signed events to."""
    app = shop.app()
    register_webhook(
        stripe_server.url, f"{app.url}/api/webhooks/stripe/", WEBHOOK_SECRET, WEBHOOK_EVENTS
    )
    return app


def wait_until(check: Any, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_dashboard_refunds_delivered_by_stripe_refund_part_then_all(
    shop: Shop, stripe_server: FakeStripe, ledger: StripeLedger
) -> None:
    app = delivering(shop, stripe_server)
    auth = shop.shopper(app, "dashboard-refund@example.com")
    status, answer, _ = shop.buy(app, auth)
    assert status == 201
    order_id = answer["order"]["id"]
    (payment_id,) = ledger.payments_for_order(order_id)

    ledger.refund(payment_id, 1500)
    wait_until(lambda: shop.orders(app, auth)[0]["refunded"] == 15, "charge.refunded (part)")
    assert shop.orders(app, auth)[0]["paymentstatus"] == "PARTIALLY_REFUNDED"

    ledger.refund(payment_id, None)
    wait_until(lambda: shop.orders(app, auth)[0]["paymentstatus"] == "REFUNDED",
               "charge.refunded (the rest)")
    assert shop.orders(app, auth)[0]["refunded"] == 59.99
    assert ledger.refunded_cents(payment_id) == 5999


def test_an_admin_refunds_part_of_an_order_through_stripe(
    shop: Shop, ledger: StripeLedger
) -> None:
    app = shop.app()
    auth = shop.shopper(app, "partial@example.com")
    status, answer, _ = shop.buy(app, auth)
    assert status == 201
    order_id = answer["order"]["id"]
    framesell_command(app.ini, "create-admin", "refunds@example.com",
                      extra_env={"FRAMESELL_ADMIN_PASSWORD": PASSWORD})
    token = call("POST", f"{app.url}/api/api-token-auth/",
                 {"username": "refunds@example.com", "password": PASSWORD})[1]["token"]
    admin = {"Authorization": f"JWT {token}"}
    path = f"{app.url}/api/order/{order_id}/refund/"

    status, part, _ = call("POST", path, {"amount": "20.00"}, headers=admin)
    assert status == 200, part
    assert (part["order"]["paymentstatus"], part["order"]["refunded"]) == (
        "PARTIALLY_REFUNDED", 20
    )
    status, too_much, _ = call("POST", path, {"amount": 40}, headers=admin)
    assert status == 409, too_much
    status, rest, _ = call("POST", path, {}, headers=admin)
    assert status == 200, rest
    assert (rest["order"]["paymentstatus"], rest["order"]["refunded"]) == ("REFUNDED", 59.99)
    (payment_id,) = ledger.payments_for_order(order_id)
    assert ledger.refunded_cents(payment_id) == 5999


def test_a_dispute_delivered_by_stripe_is_recorded_on_the_order(
    shop: Shop, stripe_server: FakeStripe, ledger: StripeLedger
) -> None:
    app = delivering(shop, stripe_server)
    auth = shop.shopper(app, "disputed@example.com")
    status, answer, _ = shop.buy(app, auth, token=ledger.card("4000000000000259"))
    assert status == 201
    order_id = answer["order"]["id"]
    engine = sa.create_engine(shop.database_url)

    def dispute() -> str | None:
        with engine.connect() as connection:
            query = sa.text("SELECT dispute_status FROM orders WHERE id = :id")
            return connection.execute(query, {"id": order_id}).scalar()

    try:
        wait_until(lambda: dispute() == "needs_response", "charge.dispute.created")
    finally:
        engine.dispose()
    assert shop.orders(app, auth)[0]["paymentstatus"] == "PAID"


def test_a_spent_card_token_is_a_402_decline_and_never_a_503(
    shop: Shop, ledger: StripeLedger
) -> None:
    app = shop.app()
    auth = shop.shopper(app, "twice@example.com")
    token = ledger.card("4242424242424242")
    assert shop.buy(app, auth, token=token)[0] == 201

    status, answer, _ = shop.buy(app, auth, token=token)

    assert status == 402, answer
    assert answer["order"]["paymentstatus"] == "FAILED"
    assert answer["error"] == (
        "These card details were already used; please enter your card again."
    )
