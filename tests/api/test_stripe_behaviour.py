"""Payments as Stripe really behaves: partial refunds, foreign and mismatched events, event
order, disputes, shopper mistakes and failed orders closed at Stripe (fake gateway), on
memory, SQLite and MariaDB storage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from webtest import TestApp

from framesell.bootstrap import Shop
from framesell.domain.errors import PaymentMisconfigured, PaymentUnavailable
from framesell.domain.models import Product
from framesell.domain.money import Money
from framesell.domain.payments import PaymentState
from tests.api.conftest import SETTINGS, Captured, served
from tests.api.test_payments import buy, webhook
from tests.fixtures.database import STORAGE_ADAPTERS
from tests.fixtures.events import dispute_event, intent_event, refund_event


@pytest.fixture(params=STORAGE_ADAPTERS)
def app(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestApp]:
    """The whole app on each storage adapter: memory, a migrated SQLite file, MariaDB."""
    for variable in ("FRAMESELL_STORAGE", "FRAMESELL_PAYMENT", "FRAMESELL_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    settings = dict(SETTINGS)
    if request.param != "memory":
        url = request.getfixturevalue(f"{request.param}_url")
        settings.update({"framesell.storage": "sql", "framesell.database_url": url})
    built = TestApp(served(settings))
    yield built
    built.app.registry.framesell_shop.close()


@pytest.fixture
def paid(
    app: TestApp, shop: Shop, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> tuple[dict[str, Any], str]:
    """A $100 order paid by card, and the id of its payment at the gateway."""
    order = buy(app, shopper, add_product("Bridge", "100"), status=201).json["order"]
    (payment,) = shop.gateway.payments_for_order(order["id"])
    return order, payment.id


def shown(app: TestApp, shopper: dict[str, Any], order_id: int) -> dict[str, Any]:
    found: dict[str, Any] = app.get(f"/api/order/{order_id}/", headers=shopper["headers"]).json
    return found


# --- partial refunds ----------------------------------------------------------------------


def test_an_admin_refunds_part_then_the_rest_and_the_order_says_how_much(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    admin: dict[str, Any],
    paid: tuple[dict[str, Any], str],
) -> None:
    order, payment_id = paid
    path = f"/api/order/{order['id']}/refund/"

    part = app.post_json(path, {"amount": 25.5}, headers=admin["headers"], status=200).json
    assert part == {
        "success": True,
        "order": {**order, "paymentstatus": "PARTIALLY_REFUNDED", "refunded": 25.5},
    }
    too_much = app.post_json(path, {"amount": "74.51"}, headers=admin["headers"], status=409)
    assert too_much.json["errors"][0]["description"] == "only 74.50 is left to refund"
    rest = app.post(path, headers=admin["headers"], status=200).json
    assert rest["order"]["paymentstatus"] == "REFUNDED"
    assert rest["order"]["refunded"] == 100
    assert app.post(path, headers=admin["headers"], status=200).json == rest
    app.post_json(path, {"amount": 1}, headers=admin["headers"], status=409)
    assert shop.gateway.refunded_cents(payment_id) == 10_000
    listed = app.get("/api/order/", headers=shopper["headers"]).json
    assert [(o["paymentstatus"], o["refunded"]) for o in listed] == [("REFUNDED", 100)]


@pytest.mark.parametrize("amount", [0, -1, "1.001", "abc", True, "", " ", None])
def test_a_refund_amount_that_is_not_a_positive_price_is_400(
    app: TestApp, admin: dict[str, Any], paid: tuple[dict[str, Any], str], amount: Any
) -> None:
    order, _ = paid
    app.post_json(
        f"/api/order/{order['id']}/refund/", {"amount": amount}, headers=admin["headers"],
        status=400,
    )


@pytest.mark.parametrize("content_type", ["multipart/form-data", "text/plain"])
def test_a_refund_body_that_is_not_json_is_415(
    app: TestApp,
    shopper: dict[str, Any],
    admin: dict[str, Any],
    paid: tuple[dict[str, Any], str],
    content_type: str,
) -> None:
    order, _ = paid
    refused = app.post(
        f"/api/order/{order['id']}/refund/", b'{"amount": "1"}', headers=admin["headers"],
        content_type=content_type, status=415,
    )
    assert refused.json["status"] == "error"
    assert shown(app, shopper, order["id"])["paymentstatus"] == "PAID"


def test_a_dashboard_refund_of_a_quarter_leaves_three_quarters_to_refund(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    admin: dict[str, Any],
    paid: tuple[dict[str, Any], str],
) -> None:
    order, payment_id = paid
    shop.gateway.refund_elsewhere(payment_id, 2500)

    event = refund_event("evt_quarter", payment_id, order["id"])
    assert webhook(app, event, status=200).json == {"received": True, "applied": True}
    assert (shown(app, shopper, order["id"])["paymentstatus"], shown(app, shopper, order["id"])[
        "refunded"]) == ("PARTIALLY_REFUNDED", 25)

    rest = app.post(f"/api/order/{order['id']}/refund/", headers=admin["headers"], status=200)
    assert (rest.json["order"]["paymentstatus"], rest.json["order"]["refunded"]) == (
        "REFUNDED",
        100,
    )
    assert shop.gateway.refunded_cents(payment_id) == 10_000


def test_an_admin_refund_counts_a_dashboard_refund_whose_event_has_not_come(
    app: TestApp, shop: Shop, admin: dict[str, Any], paid: tuple[dict[str, Any], str]
) -> None:
    order, payment_id = paid
    shop.gateway.refund_elsewhere(payment_id, 4000)
    path = f"/api/order/{order['id']}/refund/"
    app.post_json(path, {"amount": 60.01}, headers=admin["headers"], status=409)
    done = app.post_json(path, {"amount": 60}, headers=admin["headers"], status=200).json
    assert (done["order"]["paymentstatus"], done["order"]["refunded"]) == ("REFUNDED", 100)
    assert shop.gateway.refunded_cents(payment_id) == 10_000


# --- any event order ----------------------------------------------------------------------


def test_refunded_at_stripe_before_the_success_event_ends_refunded(
    app: TestApp, shop: Shop, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    placed = buy(app, shopper, add_product(), token="pm_card_threeDSecure2Required", status=402)
    order = placed.json["order"]
    (payment,) = shop.gateway.payments_for_order(order["id"])
    shop.gateway.complete_authentication(payment.id)
    shop.gateway.refund_elsewhere(payment.id, 10_000)

    refunded = refund_event("evt_refund_first", payment.id, order["id"])
    succeeded = intent_event("evt_paid_later", "payment_intent.succeeded", payment.id, order["id"])
    assert webhook(app, refunded, status=200).json == {"received": True, "applied": True}
    assert webhook(app, succeeded, status=200).json == {"received": True, "applied": False}
    assert shown(app, shopper, order["id"])["paymentstatus"] == "REFUNDED"
    confirmed = app.post(f"/api/order/{order['id']}/confirm/", headers=shopper["headers"])
    assert confirmed.json["order"]["paymentstatus"] == "REFUNDED"


def test_a_failure_event_of_a_payment_that_succeeded_after_all_pays_the_order(
    app: TestApp, shop: Shop, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    placed = buy(app, shopper, add_product(), token="pm_card_threeDSecure2Required", status=402)
    order = placed.json["order"]
    (payment,) = shop.gateway.payments_for_order(order["id"])
    shop.gateway.complete_authentication(payment.id)
    failed = intent_event("evt_old_failure", "payment_intent.payment_failed", payment.id,
                          order["id"])
    assert webhook(app, failed, status=200).json == {"received": True, "applied": True}
    assert shown(app, shopper, order["id"])["paymentstatus"] == "PAID"


def test_an_event_stripe_cannot_be_asked_about_is_503_with_retry_after_and_applies_later(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    awaiting_3d_secure: tuple[dict[str, Any], str],
) -> None:
    order, payment_id = awaiting_3d_secure
    shop.gateway.complete_authentication(payment_id)
    event = intent_event("evt_unasked", "payment_intent.succeeded", payment_id, order["id"])
    shop.gateway.fail_next_with(PaymentUnavailable)

    deferred = webhook(app, event, status=503)

    assert deferred.headers["Retry-After"] == "60"
    assert shown(app, shopper, order["id"])["paymentstatus"] == "PENDING"
    assert webhook(app, event, status=200).json == {"received": True, "applied": True}


# --- foreign and mismatched events --------------------------------------------------------


def test_events_for_payments_the_shop_did_not_make_get_200_and_an_info_line(
    app: TestApp, logs: Captured
) -> None:
    no_metadata = intent_event("evt_dashboard", "payment_intent.succeeded", "pi_dashboard", 1)
    no_metadata["data"]["object"]["metadata"] = {}
    other_app = intent_event("evt_other_app", "payment_intent.succeeded", "pi_other", 987654)
    charge_only = refund_event("evt_charge", "pi_x", 1)
    charge_only["data"]["object"].pop("payment_intent")
    charge_only["data"]["object"]["metadata"] = {}

    for event in (no_metadata, other_app, charge_only):
        assert webhook(app, event, status=200).json == {"received": True, "applied": False}
    ignored = [line for line in logs.lines if "not for an order of this shop" in line["message"]]
    assert [line["level"] for line in ignored] == ["INFO", "INFO", "INFO"]


def test_a_payment_of_another_amount_naming_a_pending_order_is_not_applied(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
    logs: Captured,
) -> None:
    shop.gateway.fail_next_with(PaymentUnavailable)
    order = buy(app, shopper, add_product(), status=503).json["order"]
    # Someone else's PaymentIntent carrying this order's id, for one cent... and one with the
    # right amount but not made by the shop for this order (no matching reference).
    cheap = shop.gateway.charge(Money(50), "pm_card_visa", order_id=order["id"],
                                    idempotency_key="other-app-1")
    same_amount = shop.gateway.charge(Money(10_000), "pm_card_visa", order_id=order["id"],
                                          idempotency_key="other-app-2")
    for payment in (cheap, same_amount):
        event = intent_event(f"evt_{payment.id}", "payment_intent.succeeded", payment.id,
                             order["id"])
        assert webhook(app, event, status=200).json == {"received": True, "applied": False}
    assert shown(app, shopper, order["id"])["paymentstatus"] == "PENDING"
    warned = [line for line in logs.lines if "does not match order" in line["message"]]
    assert [line["level"] for line in warned] == ["WARNING", "WARNING"]


def test_an_event_from_the_other_mode_is_not_applied(
    app: TestApp, shop: Shop, shopper: dict[str, Any], logs: Captured,
    awaiting_3d_secure: tuple[dict[str, Any], str],
) -> None:
    order, payment_id = awaiting_3d_secure
    shop.gateway.complete_authentication(payment_id)
    live = intent_event("evt_live", "payment_intent.succeeded", payment_id, order["id"])
    live["livemode"] = True
    assert webhook(app, live, status=200).json == {"received": True, "applied": False}
    assert shown(app, shopper, order["id"])["paymentstatus"] == "PENDING"
    assert any(
        line["level"] == "WARNING" and "live mode" in line["message"] for line in logs.lines
    )
    test_mode = {**live, "id": "evt_test", "livemode": False}
    assert webhook(app, test_mode, status=200).json == {"received": True, "applied": True}


# --- disputes -----------------------------------------------------------------------------


def test_a_dispute_is_recorded_and_logged_and_a_late_created_never_reopens_it(
    app: TestApp, shop: Shop, paid: tuple[dict[str, Any], str], logs: Captured
) -> None:
    order, payment_id = paid
    created = dispute_event("evt_dispute_1", "charge.dispute.created", payment_id, "needs_response")
    closed = dispute_event("evt_dispute_2", "charge.dispute.closed", payment_id, "lost")
    assert webhook(app, closed, status=200).json == {"received": True, "applied": True}
    assert webhook(app, created, status=200).json == {"received": True, "applied": False}
    with shop.uow() as uow:
        stored = uow.orders.get(order["id"])
    assert stored is not None and stored.dispute is not None
    assert stored.dispute.value == "lost"
    chargebacks = [line for line in logs.lines if "chargeback" in line["message"]]
    assert [line["level"] for line in chargebacks] == ["WARNING", "WARNING"]


# --- shopper mistakes ---------------------------------------------------------------------


def test_a_card_token_used_twice_is_a_402_decline_not_an_outage(
    app: TestApp, shop: Shop, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    product = add_product()
    token = shop.gateway.create_token("4242424242424242")
    buy(app, shopper, product, token=token, status=201)

    again = buy(app, shopper, product, token=token, status=402).json

    assert again["success"] is False
    assert again["error"] == (
        "These card details were already used; please enter your card again."
    )
    assert again["order"]["paymentstatus"] == "FAILED"


# --- failed orders close at Stripe; money for them goes back -----------------------------


def test_a_failed_3d_secure_order_is_canceled_so_its_client_secret_cannot_pay(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    awaiting_3d_secure: tuple[dict[str, Any], str],
) -> None:
    order, payment_id = awaiting_3d_secure
    shop.gateway.complete_authentication(payment_id, succeed=False)
    app.post(f"/api/order/{order['id']}/confirm/", headers=shopper["headers"], status=402)

    with pytest.raises(PaymentMisconfigured):
        shop.gateway.pay_again_with_secret(payment_id)
    assert shop.gateway.retrieve(payment_id).state is PaymentState.FAILED


def test_money_that_arrives_for_a_failed_order_is_refunded_and_logged(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    awaiting_3d_secure: tuple[dict[str, Any], str],
    logs: Captured,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order, payment_id = awaiting_3d_secure
    shop.gateway.complete_authentication(payment_id, succeed=False)

    def cancel_lost(*args: Any, **kwargs: Any) -> Any:
        raise PaymentUnavailable("timed out")

    with monkeypatch.context() as patched:  # Stripe does not answer the cancel
        patched.setattr(shop.gateway, "cancel", cancel_lost)
        app.post(f"/api/order/{order['id']}/confirm/", headers=shopper["headers"], status=402)
    # So the shopper could still pay with the client secret, and did.
    shop.gateway.pay_again_with_secret(payment_id)

    event = intent_event("evt_late_money", "payment_intent.succeeded", payment_id, order["id"])
    assert webhook(app, event, status=200).json == {"received": True, "applied": True}

    assert (shown(app, shopper, order["id"])["paymentstatus"],
            shown(app, shopper, order["id"])["refunded"]) == ("REFUNDED", 100)
    assert shop.gateway.refunded_cents(payment_id) == 10_000
    assert any(
        line["level"] == "WARNING" and "which had FAILED: refunding it" in line["message"]
        for line in logs.lines
    )
