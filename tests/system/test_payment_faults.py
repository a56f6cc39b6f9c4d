"""Issue-3 proof: faults injected for real between separate processes; no mocks of our code."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
from collections import Counter
from typing import Any

import pytest

from fakestripe.launcher import FakeStripe
from framesell.adapters.stripe_webhooks import sign
from tests.fixtures.events import intent_event, refund_event
from tests.fixtures.network import TcpProxy
from tests.fixtures.processes import WEBHOOK_SECRET, call
from tests.fixtures.stripe import StripeLedger
from tests.system.conftest import GALERA, Shop, slow_down_stripe

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.stripe]
# The faults that involve two processes, also with the two on different Galera nodes.
ON_ONE_SERVER_AND_ON_GALERA = pytest.mark.parametrize(
    "database", ["mysql", GALERA], indirect=True
)


def test_stripe_down_gives_503_pending_and_reconcile_pays_once_it_is_back(
    shop: Shop, stripe_link: TcpProxy, ledger: StripeLedger
) -> None:
    app = shop.app()
    auth = shop.shopper(app, "down@example.com")
    stripe_link.cut()

    status, answer, _ = shop.buy(app, auth)

    assert status == 503
    assert answer["error"] == "payment service unavailable"
    assert answer["order"]["paymentstatus"] == "PENDING"
    order_id = answer["order"]["id"]
    stripe_link.restore()
    output = shop.cli(app, "reconcile", "--older-than", "0")
    assert f"order {order_id}: PAID" in output
    assert shop.orders(app, auth)[0]["paymentstatus"] == "PAID"
    assert len(ledger.payments_for_order(order_id)) == 1
    assert len(ledger.charges_for_order(order_id)) == 1


def test_a_charge_answered_too_late_is_503_and_a_retry_with_the_key_pays_once(
    shop: Shop, stripe_server: FakeStripe, ledger: StripeLedger
) -> None:
    app = shop.app(**{"stripe.timeout_seconds": "1", "stripe.max_retries": "1"})
    auth = shop.shopper(app, "slow@example.com")
    slow_down_stripe(stripe_server, seconds=3, times=2)  # the first try and the SDK's retry

    status, first, _ = shop.buy(app, auth, key="checkout-1")

    assert status == 503
    assert first["order"]["paymentstatus"] == "PENDING"
    order_id = first["order"]["id"]
    # The fake Stripe took the money and only held its answers back: wait for the charge
    # (not a fixed time) before the shopper's retry.
    deadline = time.monotonic() + 15
    while len(ledger.charges_for_order(order_id)) < 1:
        assert time.monotonic() < deadline, "the slow charge never completed at Stripe"
        time.sleep(0.1)
    status, again, _ = shop.buy(app, auth, key="checkout-1")
    assert status == 201, again
    assert again["order"]["id"] == order_id
    assert again["order"]["paymentstatus"] == "PAID"
    assert len(shop.orders(app, auth)) == 1
    assert len(ledger.payments_for_order(order_id)) == 1
    assert len(ledger.charges_for_order(order_id)) == 1


@ON_ONE_SERVER_AND_ON_GALERA
def test_a_process_killed_between_charge_and_settle_loses_nothing(
    shop: Shop, ledger: StripeLedger
) -> None:
    doomed = shop.app("doomed", **{"testing.crash_after_charge": "true"})
    auth = shop.shopper(doomed, "crash@example.com")

    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        shop.buy(doomed, auth)
    assert doomed.wait_killed() == -9  # SIGKILL, at the fault point

    app = shop.app("restarted")
    (pending,) = shop.orders(app, auth)
    assert pending["paymentstatus"] == "PENDING"
    assert len(ledger.charges_for_order(pending["id"])) == 1  # Stripe did charge
    output = shop.cli(app, "reconcile", "--older-than", "0")
    assert f"order {pending['id']}: PAID" in output
    assert shop.orders(app, auth)[0]["paymentstatus"] == "PAID"
    assert len(ledger.payments_for_order(pending["id"])) == 1
    assert len(ledger.charges_for_order(pending["id"])) == 1


@ON_ONE_SERVER_AND_ON_GALERA
def test_eight_concurrent_requests_with_one_key_on_two_processes_buy_once(
    shop: Shop, stripe_server: FakeStripe, ledger: StripeLedger
) -> None:
    first, second = shop.app("first"), shop.app("second")
    auth = shop.shopper(first, "race@example.com")
    slow_down_stripe(stripe_server, seconds=1.5, times=1)  # keep the first one in flight
    answers: list[tuple[int, Any]] = []
    start = threading.Barrier(8)

    def buy(app_index: int) -> None:
        start.wait()
        status, body, _ = shop.buy((first, second)[app_index % 2], auth, key="double-click")
        answers.append((status, body))

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = Counter(status for status, _ in answers)
    assert len(answers) == 8
    assert set(statuses) <= {201, 409}, answers
    assert statuses[201] >= 1
    (order,) = shop.orders(second, auth)
    assert order["paymentstatus"] == "PAID"
    assert {body["order"]["id"] for status, body in answers if status == 201} == {order["id"]}
    assert len(ledger.payments_for_order(order["id"])) == 1
    assert len(ledger.charges_for_order(order["id"])) == 1
    # Once answered, the key replays the answer on either process.
    status, replay, headers = shop.buy(first, auth, key="double-click")
    assert (status, replay["order"]["id"], headers.get("Idempotent-Replayed")) == (
        201,
        order["id"],
        "true",
    )


def deliver(app_url: str, event: dict[str, Any]) -> tuple[int, Any]:
    """POST a signed Stripe event to the app's webhook endpoint."""
    body = json.dumps(event).encode()
    headers = {"Stripe-Signature": sign(body, WEBHOOK_SECRET, int(time.time()))}
    status, answer, _ = call("POST", f"{app_url}/api/webhooks/stripe/", raw=body, headers=headers)
    return status, answer


@ON_ONE_SERVER_AND_ON_GALERA
def test_webhook_chaos_foreign_events_partial_refunds_twice_late_and_out_of_order(
    shop: Shop, ledger: StripeLedger
) -> None:
    app, other = shop.app("first"), shop.app("second")  # on Galera: on two nodes
    auth = shop.shopper(app, "hooks@example.com")
    status, answer, _ = shop.buy(app, auth)
    assert status == 201
    order_id = answer["order"]["id"]
    (payment_id,) = ledger.payments_for_order(order_id)

    # Events of payments the shop never made: a dashboard payment, another app's order.
    dashboard = intent_event("evt_dashboard", "payment_intent.succeeded", "pi_dashboard", 1)
    dashboard["data"]["object"]["metadata"] = {}
    other_app = intent_event("evt_other", "payment_intent.succeeded", "pi_other", 99_999)
    for foreign in (dashboard, other_app):
        assert deliver(app.url, foreign) == (200, {"received": True, "applied": False})
        assert deliver(other.url, foreign) == (200, {"received": True, "applied": False})
    # The request path settled it; the success event arrives after, twice, at both.
    succeeded = intent_event("evt_succeeded", "payment_intent.succeeded", payment_id, order_id)
    assert deliver(other.url, succeeded) == (200, {"received": True, "applied": False})
    assert deliver(app.url, succeeded) == (200, {"received": True, "applied": False})
    # A quarter is refunded in the dashboard; its event reaches both processes twice at
    # once (on Galera the settles race on two nodes), then a stale failure arrives.
    ledger.refund(payment_id, 1500)
    first_refund = refund_event("evt_refund_1", payment_id, order_id)
    answers: list[tuple[int, Any]] = []
    start = threading.Barrier(4)

    def hook(url: str) -> None:
        start.wait()
        answers.append(deliver(url, first_refund))

    threads = [threading.Thread(target=hook, args=(url,)) for url in [app.url, other.url] * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 4
    assert {status for status, _ in answers} == {200}, answers
    assert any(body["applied"] for _, body in answers), answers
    failed = intent_event("evt_failed", "payment_intent.payment_failed", payment_id, order_id)
    assert deliver(other.url, failed) == (200, {"received": True, "applied": False})
    (order,) = shop.orders(other, auth)
    assert (order["paymentstatus"], order["refunded"]) == ("PARTIALLY_REFUNDED", 15)
    # The rest is refunded; the two refund events arrive in reverse order, then old ones.
    ledger.refund(payment_id, None)
    second = refund_event("evt_refund_2", payment_id, order_id)
    assert deliver(other.url, second) == (200, {"received": True, "applied": True})
    # Stale events under new ids, so that "never backwards" is the rule's, not deduplication's.
    stale_refund = refund_event("evt_refund_1_late", payment_id, order_id)
    assert deliver(app.url, stale_refund) == (200, {"received": True, "applied": False})
    redelivered = intent_event(
        "evt_succeeded_again", "payment_intent.succeeded", payment_id, order_id
    )
    assert deliver(other.url, redelivered) == (200, {"received": True, "applied": False})
    failed_late = intent_event(
        "evt_failed_late", "payment_intent.payment_failed", payment_id, order_id
    )
    assert deliver(app.url, failed_late) == (200, {"received": True, "applied": False})
    (order,) = shop.orders(app, auth)
    assert (order["paymentstatus"], order["refunded"]) == ("REFUNDED", 59.99)


@ON_ONE_SERVER_AND_ON_GALERA
def test_refunded_before_the_payment_event_arrives_ends_refunded(
    shop: Shop, stripe_server: FakeStripe, ledger: StripeLedger
) -> None:
    app, other = shop.app("first"), shop.app("second")  # on Galera: on two nodes
    auth = shop.shopper(app, "refund-first@example.com")
    status, answer, _ = shop.buy(app, auth, token=ledger.card("4000002760003184"))
    assert status == 402 and answer["requires_action"] is True
    order_id = answer["order"]["id"]
    (payment_id,) = ledger.payments_for_order(order_id)
    authenticate(stripe_server, payment_id, answer["client_secret"])
    ledger.refund(payment_id, None)  # paid and refunded at Stripe before any event arrived

    refunded = refund_event("evt_refund_first", payment_id, order_id)
    assert deliver(app.url, refunded) == (200, {"received": True, "applied": True})
    succeeded = intent_event("evt_paid_late", "payment_intent.succeeded", payment_id, order_id)
    assert deliver(other.url, succeeded) == (200, {"received": True, "applied": False})
    (order,) = shop.orders(other, auth)
    assert (order["paymentstatus"], order["refunded"]) == ("REFUNDED", 59.99)


def authenticate(stripe_server: FakeStripe, payment_id: str, client_secret: str) -> None:
    """The shopper passes the bank's 3-D Secure challenge in the browser."""
    call(
        "POST",
        f"{stripe_server.url}/v1/payment_intents/{payment_id}/_authenticate",
        raw=f"client_secret={client_secret}&success=true".encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Bearer sk_test_process_tests",
        },
    )


def test_an_event_for_another_payment_of_the_order_changes_nothing(shop: Shop) -> None:
    app = shop.app()
    auth = shop.shopper(app, "stale@example.com")
    status, answer, _ = shop.buy(app, auth, token="pm_card_threeDSecure2Required")
    assert status == 402 and answer["requires_action"] is True
    order_id = answer["order"]["id"]
    stale = intent_event("evt_stale", "payment_intent.succeeded", "pi_not_this_one", order_id)
    assert deliver(app.url, stale) == (200, {"received": True, "applied": False})
    assert shop.orders(app, auth)[0]["paymentstatus"] == "PENDING"


def test_a_database_lost_as_the_order_is_saved_gives_503_charges_nothing_and_writes_nothing(
    shop: Shop, database_link: Any, ledger: StripeLedger
) -> None:
    # The caller is authenticated (the database answers that) and the request reaches the
    # order code; the database goes down on the INSERT of the PENDING order, which must
    # come before any money moves.
    proxy, url_through_proxy = database_link()
    shop.database_url = url_through_proxy
    app = shop.app("behind-proxy", **{"database_url": url_through_proxy})
    auth = shop.shopper(app, "nodb@example.com")
    assert shop.orders(app, auth) == []  # authenticated through the proxy
    proxy.cut_on(b"INSERT INTO orders")

    status, answer, _ = shop.buy(app, auth)

    assert proxy.tripped, "the request never reached the INSERT of the order"
    unavailable = "service temporarily unavailable"
    assert (status, answer) == (
        503,
        {
            "success": False,
            "error": unavailable,
            "errors": [{"location": "body", "name": "", "description": unavailable}],
        },
    )
    assert ledger.all_payment_ids() == []
    proxy.restore()
    assert shop.orders(app, auth) == []
    assert ledger.all_payment_ids() == []


def test_an_unreachable_database_refuses_the_caller_with_503_and_charges_nothing(
    shop: Shop, database_link: Any, ledger: StripeLedger
) -> None:
    proxy, url_through_proxy = database_link()
    shop.database_url = url_through_proxy
    app = shop.app("behind-proxy", **{"database_url": url_through_proxy})
    auth = shop.shopper(app, "nodb-at-all@example.com")
    proxy.cut()

    status, answer, _ = shop.buy(app, auth)

    assert status == 503, answer
    assert "unavailable" in json.dumps(answer)
    proxy.restore()
    assert shop.orders(app, auth) == []
    assert ledger.all_payment_ids() == []


@pytest.mark.parametrize(
    "forge",
    [
        lambda body, now: {},  # unsigned
        lambda body, now: {"Stripe-Signature": sign(body, "whsec_someone_else", now)},
        lambda body, now: {"Stripe-Signature": sign(body, WEBHOOK_SECRET, now - 301)},
        lambda body, now: {"Stripe-Signature": sign(body, WEBHOOK_SECRET, now - 86_400)},
        lambda body, now: {
            "Stripe-Signature": f"t={now + 60},"
            + sign(body, WEBHOOK_SECRET, now - 86_400).split(",")[1]
        },
    ],
    ids=["unsigned", "wrong-secret", "just-too-old", "a-day-old", "old-signature-new-time"],
)
def test_the_real_server_refuses_unsigned_forged_and_old_events(
    shop: Shop, stripe_server: FakeStripe, ledger: StripeLedger, forge: Any
) -> None:
    # pserve, the Stripe adapter and its checker (the Stripe SDK), as in production.
    app = shop.app()
    auth = shop.shopper(app, "forged-events@example.com")
    status, answer, _ = shop.buy(app, auth, token=ledger.card("4000002760003184"))
    assert status == 402 and answer["requires_action"] is True
    order_id = answer["order"]["id"]
    (payment_id,) = ledger.payments_for_order(order_id)
    authenticate(stripe_server, payment_id, answer["client_secret"])  # succeeded at Stripe
    event = intent_event("evt_forged", "payment_intent.succeeded", payment_id, order_id)
    body = json.dumps(event).encode()

    status, answer, _ = call(
        "POST",
        f"{app.url}/api/webhooks/stripe/",
        raw=body,
        headers=forge(body, int(time.time())),
    )

    assert (status, answer["errors"][0]["description"]) == (
        400,
        "invalid or expired Stripe-Signature",
    )
    assert shop.orders(app, auth)[0]["paymentstatus"] == "PENDING"
    assert deliver(app.url, event) == (200, {"received": True, "applied": True})
    assert shop.orders(app, auth)[0]["paymentstatus"] == "PAID"


@ON_ONE_SERVER_AND_ON_GALERA
def test_the_fake_stripe_delivers_signed_events_that_settle_a_3d_secure_order(
    shop: Shop, stripe_server: FakeStripe, ledger: StripeLedger
) -> None:
    from fakestripe.webhooks import WEBHOOK_EVENTS, register_webhook

    app = shop.app()
    register_webhook(
        stripe_server.url, f"{app.url}/api/webhooks/stripe/", WEBHOOK_SECRET, WEBHOOK_EVENTS
    )
    auth = shop.shopper(app, "delivered@example.com")
    status, answer, _ = shop.buy(app, auth, token=ledger.card("4000002760003184"))
    assert status == 402 and answer["requires_action"] is True
    order_id = answer["order"]["id"]
    (payment_id,) = ledger.payments_for_order(order_id)

    # The shopper passes the bank's challenge; nobody calls /confirm/: only the event can pay.
    authenticate(stripe_server, payment_id, answer["client_secret"])
    deadline = time.monotonic() + 15
    while shop.orders(app, auth)[0]["paymentstatus"] == "PENDING":
        assert time.monotonic() < deadline, "the payment_intent.succeeded event never arrived"
        time.sleep(0.2)
    assert shop.orders(app, auth)[0]["paymentstatus"] == "PAID"
    assert len(ledger.charges_for_order(order_id)) == 1
