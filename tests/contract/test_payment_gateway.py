"""The PaymentGateway contract: the fake and Stripe (on the fake Stripe server) agree."""

from __future__ import annotations

import socket
import uuid

import pytest

from framesell.adapters.stripe import StripeGateway
from framesell.domain.errors import PaymentDeclined, PaymentMisconfigured, PaymentUnavailable
from framesell.domain.money import Money
from framesell.domain.payments import PaymentState
from tests.fixtures.stripe import SECRET_KEY

DECLINED = "Your card was declined."
ODD_AMOUNT = Money(5999)  # $59.99: a float would make it 5998.999…


def a_key() -> str:
    """A fresh idempotency key, as the shop derives one per order attempt."""
    return f"order-attempt-{uuid.uuid4()}"


@pytest.mark.parametrize("token", ["tok_visa", "pm_card_visa"])
def test_a_stripe_test_token_pays_the_exact_amount_for_the_order(
    payment_gateway, new_order_id, token
):
    order_id = new_order_id()

    payment = payment_gateway.charge(ODD_AMOUNT, token, order_id=order_id,
                                     idempotency_key=a_key())

    assert payment.state is PaymentState.SUCCEEDED
    assert payment.amount == ODD_AMOUNT
    assert payment.order_id == order_id
    seen = payment_gateway.retrieve(payment.id)
    assert (seen.id, seen.state, seen.amount, seen.order_id) == (
        payment.id, PaymentState.SUCCEEDED, Money(5999, "usd"), order_id
    )
    assert isinstance(seen.amount.cents, int)


def test_a_card_number_tokenized_like_stripe_js_pays(payment_gateway, payment_ledger,
                                                    new_order_id):
    order_id = new_order_id()
    token = payment_ledger.card("4242424242424242")

    payment = payment_gateway.charge(ODD_AMOUNT, token, order_id=order_id,
                                     idempotency_key=a_key())

    assert payment.state is PaymentState.SUCCEEDED
    assert payment_ledger.charges_for_order(order_id) == [payment.id]


def test_a_payment_method_made_from_a_card_number_pays(payment_gateway, payment_ledger,
                                                     new_order_id):
    method = payment_ledger.payment_method("4242424242424242")

    payment = payment_gateway.charge(Money(100), method, order_id=new_order_id(),
                                     idempotency_key=a_key())

    assert payment.state is PaymentState.SUCCEEDED


@pytest.mark.parametrize("token", ["tok_chargeDeclined", "pm_card_chargeDeclined"])
def test_the_decline_test_tokens_are_declined_with_stripes_message(
    payment_gateway, new_order_id, token
):
    with pytest.raises(PaymentDeclined) as declined:
        payment_gateway.charge(ODD_AMOUNT, token, order_id=new_order_id(),
                               idempotency_key=a_key())

    assert declined.value.message == DECLINED
    assert declined.value.payment_id is not None
    failed = payment_gateway.retrieve(declined.value.payment_id)
    assert (failed.state, failed.failure_message) == (PaymentState.FAILED, DECLINED)


@pytest.mark.parametrize("kind", ["card", "payment_method"])
def test_the_decline_card_number_is_declined_when_charged(
    payment_gateway, payment_ledger, new_order_id, kind
):
    order_id = new_order_id()
    token = getattr(payment_ledger, kind)("4000000000000002")

    with pytest.raises(PaymentDeclined) as declined:
        payment_gateway.charge(ODD_AMOUNT, token, order_id=order_id, idempotency_key=a_key())

    assert declined.value.message == DECLINED
    assert payment_ledger.payments_for_order(order_id) == [declined.value.payment_id]
    assert payment_ledger.charges_for_order(order_id) == []


def test_an_unknown_token_is_declined_as_not_found(payment_gateway, new_order_id):
    with pytest.raises(PaymentDeclined) as declined:
        payment_gateway.charge(Money(100), "tok_doesNotExist123", order_id=new_order_id(),
                               idempotency_key=a_key())

    assert declined.value.message.startswith("No such token")


def test_the_same_key_twice_makes_one_payment_and_one_charge(
    payment_gateway, payment_ledger, new_order_id
):
    order_id = new_order_id()
    token = payment_ledger.card("4242424242424242")
    key = a_key()

    first = payment_gateway.charge(ODD_AMOUNT, token, order_id=order_id, idempotency_key=key)
    second = payment_gateway.charge(ODD_AMOUNT, token, order_id=order_id, idempotency_key=key)

    assert second.id == first.id
    assert payment_ledger.payments_for_order(order_id) == [first.id]
    assert payment_ledger.charges_for_order(order_id) == [first.id]


def test_the_same_key_twice_replays_a_decline(payment_gateway, payment_ledger, new_order_id):
    order_id = new_order_id()
    key = a_key()

    with pytest.raises(PaymentDeclined) as first:
        payment_gateway.charge(Money(100), "tok_chargeDeclined", order_id=order_id,
                               idempotency_key=key)
    with pytest.raises(PaymentDeclined) as second:
        payment_gateway.charge(Money(100), "tok_chargeDeclined", order_id=order_id,
                               idempotency_key=key)

    assert second.value.payment_id == first.value.payment_id
    assert payment_ledger.payments_for_order(order_id) == [first.value.payment_id]


def test_different_keys_make_different_payments(payment_gateway, payment_ledger,
                                                new_order_id):
    order_id = new_order_id()

    first = payment_gateway.charge(Money(100), "tok_visa", order_id=order_id,
                                   idempotency_key=a_key())
    second = payment_gateway.charge(Money(100), "tok_visa", order_id=order_id,
                                    idempotency_key=a_key())

    assert first.id != second.id
    assert sorted(payment_ledger.charges_for_order(order_id)) == sorted([first.id, second.id])


def test_reusing_a_key_for_another_amount_is_our_mistake(payment_gateway, payment_ledger,
                                                         new_order_id):
    order_id = new_order_id()
    key = a_key()
    first = payment_gateway.charge(Money(100), "pm_card_visa", order_id=order_id,
                                   idempotency_key=key)

    with pytest.raises(PaymentMisconfigured):
        payment_gateway.charge(Money(200), "pm_card_visa", order_id=order_id,
                               idempotency_key=key)

    assert payment_ledger.charges_for_order(order_id) == [first.id]


@pytest.mark.parametrize("number", ["4000002760003184", "4000000000003220"])
def test_a_3d_secure_card_requires_action_with_a_client_secret(
    payment_gateway, payment_ledger, new_order_id, number
):
    order_id = new_order_id()
    token = payment_ledger.card(number)

    payment = payment_gateway.charge(ODD_AMOUNT, token, order_id=order_id,
                                     idempotency_key=a_key())

    assert payment.state is PaymentState.REQUIRES_ACTION
    assert payment.client_secret is not None
    assert payment.client_secret.startswith(f"{payment.id}_secret_")
    assert payment_gateway.retrieve(payment.id).state is PaymentState.REQUIRES_ACTION
    assert payment_ledger.charges_for_order(order_id) == []


def test_a_refund_gives_the_money_back_once_per_key(payment_gateway, payment_ledger,
                                                    new_order_id):
    order_id = new_order_id()
    paid = payment_gateway.charge(ODD_AMOUNT, "tok_visa", order_id=order_id,
                                  idempotency_key=a_key())
    key = a_key()

    refunded = payment_gateway.refund(paid.id, idempotency_key=key)
    again = payment_gateway.refund(paid.id, idempotency_key=key)

    assert (refunded.id, refunded.state, refunded.amount) == (
        paid.id, PaymentState.REFUNDED, ODD_AMOUNT
    )
    assert again.state is PaymentState.REFUNDED
    assert payment_ledger.refunded_cents(paid.id) == 5999
    assert payment_gateway.retrieve(paid.id).state is PaymentState.REFUNDED


# Failures of the connection and of our configuration exist only for the real adapter; the
# fake's equivalent (fault injection) is checked in tests/unit/test_fake_payments.py.


def a_closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_stripe_is_unavailable_not_a_decline(new_order_id):
    gateway = StripeGateway(SECRET_KEY, api_base=f"http://127.0.0.1:{a_closed_port()}",
                            timeout_seconds=2, max_retries=0)

    with pytest.raises(PaymentUnavailable):
        gateway.charge(Money(100), "tok_visa", order_id=new_order_id(),
                       idempotency_key=a_key())
    with pytest.raises(PaymentUnavailable):
        gateway.retrieve("pi_123")


@pytest.mark.stripe
@pytest.mark.parametrize("bad_key", ["not-a-stripe-key", "pk_test_publishable_is_not_secret"])
def test_a_bad_api_key_is_misconfiguration_and_is_never_repeated(fake_stripe, new_order_id,
                                                                 bad_key):
    # localstripe rejects only keys that do not look like sk_…; real Stripe also rejects an
    # unknown or revoked sk_ key with the same 401, which maps the same way.
    gateway = StripeGateway(bad_key, api_base=fake_stripe.url, max_retries=0)

    with pytest.raises(PaymentMisconfigured) as misconfigured:
        gateway.charge(Money(100), "pm_card_visa", order_id=new_order_id(),
                       idempotency_key=a_key())

    assert bad_key not in str(misconfigured.value)
    assert bad_key not in misconfigured.value.message


def test_canceling_an_unfinished_3d_secure_payment_fails_it(payment_gateway, new_order_id):
    pending = payment_gateway.charge(
        Money(700), "pm_card_threeDSecure2Required", order_id=new_order_id(),
        idempotency_key=a_key(),
    )
    assert pending.state is PaymentState.REQUIRES_ACTION

    canceled = payment_gateway.cancel(pending.id, idempotency_key=a_key())

    assert canceled.state is PaymentState.FAILED
    assert payment_gateway.retrieve(pending.id).state is PaymentState.FAILED


def test_canceling_a_succeeded_payment_leaves_it_succeeded(payment_gateway, new_order_id):
    paid = payment_gateway.charge(
        Money(700), "pm_card_visa", order_id=new_order_id(), idempotency_key=a_key()
    )

    answer = payment_gateway.cancel(paid.id, idempotency_key=a_key())

    assert answer.state is PaymentState.SUCCEEDED
    assert payment_gateway.retrieve(paid.id).state is PaymentState.SUCCEEDED


# Partial refunds, looking payments up, and what the shopper got wrong.


def test_partial_refunds_add_up_and_the_payment_says_how_much_is_back(
    payment_gateway, payment_ledger, new_order_id
):
    paid = payment_gateway.charge(Money(10_000), "tok_visa", order_id=new_order_id(),
                                  idempotency_key=a_key())
    key = a_key()

    quarter = payment_gateway.refund(paid.id, amount=Money(2500), idempotency_key=key)
    replayed = payment_gateway.refund(paid.id, amount=Money(2500), idempotency_key=key)
    more = payment_gateway.refund(paid.id, amount=Money(5000), idempotency_key=a_key())

    assert (quarter.state, quarter.refunded_cents) == (PaymentState.SUCCEEDED, 2500)
    assert replayed.refunded_cents >= 2500
    assert (more.state, more.refunded_cents) == (PaymentState.SUCCEEDED, 7500)
    seen = payment_gateway.retrieve(paid.id)
    assert (seen.state, seen.refunded_cents) == (PaymentState.SUCCEEDED, 7500)
    assert payment_ledger.refunded_cents(paid.id) == 7500
    rest = payment_gateway.refund(paid.id, idempotency_key=a_key())
    assert (rest.state, rest.refunded_cents) == (PaymentState.REFUNDED, 10_000)
    assert payment_ledger.refunded_cents(paid.id) == 10_000


def test_a_refund_of_more_than_is_left_is_refused_as_our_mistake(payment_gateway, new_order_id):
    paid = payment_gateway.charge(Money(1000), "tok_visa", order_id=new_order_id(),
                                  idempotency_key=a_key())
    payment_gateway.refund(paid.id, amount=Money(600), idempotency_key=a_key())

    with pytest.raises(PaymentMisconfigured):
        payment_gateway.refund(paid.id, amount=Money(401), idempotency_key=a_key())
    assert payment_gateway.retrieve(paid.id).refunded_cents == 600


def test_the_order_reference_is_kept_with_the_payment(payment_gateway, new_order_id):
    paid = payment_gateway.charge(Money(1000), "tok_visa", order_id=new_order_id(),
                                  idempotency_key=a_key(), order_reference="ref-abc123")

    assert payment_gateway.retrieve(paid.id).order_reference == "ref-abc123"


def test_an_orders_payments_are_found_in_its_window(payment_gateway, new_order_id):
    from datetime import UTC, datetime, timedelta

    order_id = new_order_id()
    start = datetime.now(UTC) - timedelta(seconds=2)
    paid = payment_gateway.charge(Money(1000), "tok_visa", order_id=order_id,
                                  idempotency_key=a_key())
    payment_gateway.charge(Money(1000), "tok_visa", order_id=new_order_id(),
                           idempotency_key=a_key())
    end = datetime.now(UTC) + timedelta(seconds=2)

    found = payment_gateway.find_for_order(order_id, created_from=start, created_until=end)
    before = payment_gateway.find_for_order(
        order_id, created_from=start - timedelta(hours=2), created_until=start - timedelta(hours=1)
    )

    assert [(p.id, p.state, p.order_id) for p in found] == [
        (paid.id, PaymentState.SUCCEEDED, order_id)
    ]
    assert before == []


def test_a_card_token_used_a_second_time_is_the_shoppers_decline(
    payment_gateway, payment_ledger, new_order_id
):
    token = payment_ledger.card("4242424242424242")
    payment_gateway.charge(Money(1000), token, order_id=new_order_id(), idempotency_key=a_key())

    with pytest.raises(PaymentDeclined) as declined:
        payment_gateway.charge(Money(1000), token, order_id=new_order_id(),
                               idempotency_key=a_key())

    assert declined.value.message == (
        "These card details were already used; please enter your card again."
    )


def test_an_amount_under_stripes_minimum_is_a_decline_not_an_outage(
    payment_gateway, new_order_id
):
    with pytest.raises(PaymentDeclined) as declined:
        payment_gateway.charge(Money(49), "pm_card_visa", order_id=new_order_id(),
                               idempotency_key=a_key())

    assert declined.value.message == "This amount cannot be paid by card; please contact the shop."


def test_a_declined_payment_can_be_canceled_so_it_can_never_be_paid(
    payment_gateway, payment_ledger, new_order_id
):
    with pytest.raises(PaymentDeclined) as declined:
        payment_gateway.charge(Money(1000), "pm_card_chargeDeclined", order_id=new_order_id(),
                               idempotency_key=a_key())
    payment_id = declined.value.payment_id

    canceled = payment_gateway.cancel(payment_id, idempotency_key=a_key())

    assert canceled.state is PaymentState.FAILED
    assert payment_ledger.is_canceled(payment_id) is True
