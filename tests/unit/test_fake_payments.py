"""The fake gateway's own extras: fault injection, 3-D Secure completion, thread safety."""

from __future__ import annotations

import threading

import pytest

from framesell.adapters.fake_payments import FakePaymentGateway
from framesell.domain.errors import PaymentDeclined, PaymentMisconfigured, PaymentUnavailable
from framesell.domain.money import Money
from framesell.domain.payments import PaymentState


def test_an_injected_outage_charges_nothing_and_the_retry_pays():
    gateway = FakePaymentGateway()
    gateway.fail_next_with(PaymentUnavailable)

    with pytest.raises(PaymentUnavailable):
        gateway.charge(Money(100), "tok_visa", order_id=1, idempotency_key="k")
    assert gateway.payments == []

    paid = gateway.charge(Money(100), "tok_visa", order_id=1, idempotency_key="k")
    assert paid.state is PaymentState.SUCCEEDED


def test_a_lost_answer_has_charged_and_the_retry_with_the_key_finds_that_charge():
    gateway = FakePaymentGateway()
    gateway.fail_next_with(PaymentUnavailable("timed out"), after_charging=True)

    with pytest.raises(PaymentUnavailable, match="timed out"):
        gateway.charge(Money(100), "tok_visa", order_id=1, idempotency_key="k")
    retried = gateway.charge(Money(100), "tok_visa", order_id=1, idempotency_key="k")

    assert [p.id for p in gateway.charges_for_order(1)] == [retried.id]


def test_completing_3d_secure_settles_the_payment_either_way():
    gateway = FakePaymentGateway()
    # A card token is spent by its first charge, as at Stripe: one token per purchase.
    passed = gateway.charge(Money(100), gateway.create_token("4000002760003184"), order_id=1,
                            idempotency_key="a")
    failed = gateway.charge(Money(100), gateway.create_token("4000002760003184"), order_id=2,
                            idempotency_key="b")

    gateway.complete_authentication(passed.id)
    gateway.complete_authentication(failed.id, succeed=False)

    assert gateway.retrieve(passed.id).state is PaymentState.SUCCEEDED
    assert gateway.retrieve(failed.id).state is PaymentState.FAILED
    assert gateway.retrieve(failed.id).failure_message == (
        "The provided PaymentMethod has failed authentication."
    )


def test_a_confirmation_token_pays_like_its_card():
    gateway = FakePaymentGateway()

    paid = gateway.charge(Money(100), gateway.create_confirmation_token("4242424242424242"),
                          order_id=1, idempotency_key="k")

    assert paid.state is PaymentState.SUCCEEDED


@pytest.mark.parametrize(("token", "message"), [
    ("pm_unknown", "No such PaymentMethod: 'pm_unknown'"),
    ("ctoken_unknown", "No such confirmationtoken: 'ctoken_unknown'"),
    ("tok_unknown", "No such token: 'tok_unknown'"),
])
def test_an_unknown_payment_token_is_declined_without_a_payment(token, message):
    gateway = FakePaymentGateway()

    with pytest.raises(PaymentDeclined) as declined:
        gateway.charge(Money(100), token, order_id=1, idempotency_key="k")

    assert (declined.value.message, declined.value.payment_id) == (message, None)
    assert gateway.payments == []


def test_an_impossible_card_number_cannot_be_tokenized():
    with pytest.raises(PaymentDeclined, match="incorrect"):
        FakePaymentGateway().create_token("4242424242424241")


def test_refunding_an_unpaid_payment_is_refused():
    gateway = FakePaymentGateway()
    token = gateway.create_token("4000000000003220")
    pending = gateway.charge(Money(100), token, order_id=1, idempotency_key="k")

    with pytest.raises(PaymentMisconfigured):
        gateway.refund(pending.id, idempotency_key="r")


def test_concurrent_charges_with_one_key_charge_once():
    gateway = FakePaymentGateway()
    ids: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def pay() -> None:
        try:
            start.wait(timeout=10)
            ids.append(gateway.charge(Money(100), "tok_visa", order_id=1, idempotency_key="k").id)
        except BaseException as error:  # a thread's exception is lost unless kept
            errors.append(error)

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(ids) == 8  # every thread got an answer
    assert len(set(ids)) == 1
    assert len(gateway.charges_for_order(1)) == 1
