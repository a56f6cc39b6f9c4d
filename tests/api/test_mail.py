"""Order mails: queued with the order's change in one transaction, delivered once, retried."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from webtest import TestApp

from framesell.adapters.memory import FixedClock, MemoryMailer
from framesell.adapters.stripe_webhooks import sign
from framesell.bootstrap import Shop, bootstrap
from framesell.domain.models import PaymentStatus, Product
from framesell.domain.money import Money
from framesell.settings import Settings
from tests.api.conftest import OWNER_EMAIL, PASSWORD, SETTINGS, WEBHOOK_SECRET, unique_email
from tests.contract.racing import race
from tests.fixtures.events import intent_event

SECRETS = ("tok_", "pm_", "sk_", "whsec", "secret", "password", "4242")


def _mailer(shop: Shop) -> MemoryMailer:
    assert isinstance(shop.mailer, MemoryMailer)
    return shop.mailer


def _no_secrets(text: str) -> None:
    lowered = text.lower()
    for secret in SECRETS:
        assert secret not in lowered, secret


def test_a_paid_order_mails_the_shopper_a_confirmation_and_the_owner_a_sale_once(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    product = add_product("Alpine Lake", "75")
    order = app.post_json(
        "/api/order/", {"token": "tok_visa", "product": product.id}, headers=shopper["headers"],
        status=201,
    ).json["order"]
    # The same order settled again (confirm, reconcile) queues nothing more.
    app.post(f"/api/order/{order['id']}/confirm/", headers=shopper["headers"], status=200)
    shop.orders.reconcile(older_than=timedelta(0))

    mailer = _mailer(shop)
    (confirmation,) = mailer.to(shopper["email"])
    (sale,) = mailer.to(OWNER_EMAIL)
    assert confirmation.subject == f"Your FrameSell order #{order['id']} is paid"
    # The line bought, with its format: the original's request buys the digital download.
    assert "“Alpine Lake” (Digital download) for $75.00" in confirmation.text
    assert "“Alpine Lake” (Digital download) for $75.00" in confirmation.html
    assert "Your download is ready" in confirmation.text
    assert confirmation.html.startswith("<!doctype html>")
    assert sale.subject == f"Sale: order #{order['id']}, $75.00"
    assert shopper["email"] in sale.text and shopper["email"] in sale.html
    for mail in (confirmation, sale):
        _no_secrets(mail.text + mail.html)


def test_a_declined_card_sends_no_mail(
    app: TestApp, shop: Shop, shopper: dict[str, Any], add_product: Callable[..., Product]
) -> None:
    app.post_json(
        "/api/order/", {"token": "tok_chargeDeclined", "product": add_product().id},
        headers=shopper["headers"], status=402,
    )
    assert _mailer(shop).sent == []


def test_each_refund_mails_the_shopper_what_was_given_back(
    app: TestApp,
    shop: Shop,
    shopper: dict[str, Any],
    admin: dict[str, Any],
    add_product: Callable[..., Product],
) -> None:
    product = add_product("Desert Dunes", "120")
    order = app.post_json(
        "/api/order/", {"token": "tok_visa", "product": product.id}, headers=shopper["headers"]
    ).json["order"]
    refund = f"/api/order/{order['id']}/refund/"
    app.post_json(refund, {"amount": "20"}, headers=admin["headers"], status=200)
    app.post(refund, headers=admin["headers"], status=200)
    app.post(refund, headers=admin["headers"], status=200)  # nothing left: no mail

    _confirmation, partial, rest = _mailer(shop).to(shopper["email"])
    assert partial.subject == rest.subject == f"A refund for your FrameSell order #{order['id']}"
    assert "refunded $20.00 of your order" in partial.text
    assert "$20.00 of $120.00 in all so far" in partial.text
    assert "refunded $100.00 of your order" in rest.text
    assert "$120.00 of $120.00 in all so far" in rest.html


def _shop(**changes: Any) -> Shop:
    clock = FixedClock()
    settings = Settings.from_mapping({**SETTINGS, **changes}, environ={})
    return bootstrap(settings, clock=clock)


def test_a_mail_the_server_refused_stays_queued_and_is_sent_by_a_later_run() -> None:
    shop = _shop()
    mailer = _mailer(shop)
    clock = shop.clock
    assert isinstance(clock, FixedClock)
    shopper = shop.users.register(
        first_name="Ada", last_name="L", email=unique_email(), password=PASSWORD
    )
    product = shop.catalog.add_product("Bridge", "https://p.example/b.jpg", Money(5000))
    mailer.fail_next = 3  # down for the first tries

    placed = shop.orders.place_order(shopper.id or 0, product.id or 0, "tok_visa")

    assert placed.order.status is PaymentStatus.PAID  # a mail failure never fails a payment
    assert mailer.sent == []
    assert shop.mail is not None
    assert shop.mail.deliver().sent == []  # backing off: not due yet
    clock.advance(timedelta(minutes=1))
    assert len(shop.mail.deliver().failed) == 1  # the other one, still refused
    clock.advance(timedelta(minutes=2))
    shop.mail.deliver()
    assert sorted(m.to for m in mailer.sent) == sorted([shopper.email, OWNER_EMAIL])
    clock.advance(timedelta(hours=1))
    assert shop.mail.deliver().sent == []  # each once


def test_with_mail_off_nothing_is_queued() -> None:
    shop = _shop(**{"framesell.mail": "off"})
    assert shop.mail is None and shop.mailer is None


def _signed(shop: Shop, payload: dict[str, Any]) -> Any:
    body = json.dumps(payload).encode()
    return shop.events.parse(body, sign(body, WEBHOOK_SECRET, int(time.time())))


@pytest.mark.parametrize("database", ["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def test_webhook_confirm_and_reconcile_racing_send_each_order_mail_exactly_once(
    request: pytest.FixtureRequest, database: str
) -> None:
    url = request.getfixturevalue(f"{database}_url")
    settings = {**SETTINGS, "framesell.storage": "sql", "framesell.database_url": url}
    shop = bootstrap(Settings.from_mapping(settings, environ={}))
    mailer = _mailer(shop)
    try:
        product = shop.catalog.add_product("Bridge", "https://p.example/b.jpg", Money(5000))
        shoppers = []
        for _ in range(4):
            shopper = shop.users.register(
                first_name="Ada", last_name="L", email=unique_email(), password=PASSWORD
            )
            placed = shop.orders.place_order(
                shopper.id or 0, product.id or 0, "pm_card_threeDSecure2Required"
            )
            order_id = placed.order.id or 0
            (payment,) = shop.gateway.payments_for_order(order_id)  # type: ignore[attr-defined]
            shop.gateway.complete_authentication(payment.id)  # type: ignore[attr-defined]
            event = _signed(
                shop,
                intent_event(f"evt_{order_id}", "payment_intent.succeeded", payment.id, order_id),
            )
            user_id = shopper.id or 0
            work = [
                lambda event=event: shop.orders.apply_payment_event(event),
                lambda user_id=user_id, order_id=order_id: shop.orders.confirm(
                    user_id, order_id
                ),
                lambda: shop.orders.reconcile(older_than=timedelta(0)),
            ]

            def one_of(start: Callable[[], None], work: list[Any] = work) -> None:
                action = work.pop()
                start()
                action()

            race(3, one_of)
            assert shop.orders.get_order(shopper.id or 0, order_id).status is (
                PaymentStatus.PAID
            )
            shoppers.append(shopper.email)
        shop.mail.deliver() if shop.mail else None
        for email in shoppers:
            assert len(mailer.to(email)) == 1, email
        assert len(mailer.to(OWNER_EMAIL)) == len(shoppers)
    finally:
        shop.close()
