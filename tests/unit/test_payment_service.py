"""PaymentService: every gateway answer and error becomes one outcome, passed on exactly."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from framesell.application.payments import PaymentService
from framesell.application.ports import PaymentOutcome, PaymentResult
from framesell.domain.errors import PaymentDeclined, PaymentMisconfigured, PaymentUnavailable
from framesell.domain.money import Money
from framesell.domain.payments import Payment, PaymentState

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)
UNAVAILABLE = PaymentUnavailable.message


class Gateway:
    """Answers every call with ``answer`` (raised when it is an exception); remembers calls."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _reply(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((name, args, kwargs))
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    def charge(self, *args: Any, **kwargs: Any) -> Any:
        return self._reply("charge", *args, **kwargs)

    def retrieve(self, *args: Any, **kwargs: Any) -> Any:
        return self._reply("retrieve", *args, **kwargs)

    def refund(self, *args: Any, **kwargs: Any) -> Any:
        return self._reply("refund", *args, **kwargs)

    def cancel(self, *args: Any, **kwargs: Any) -> Any:
        return self._reply("cancel", *args, **kwargs)

    def find_for_order(self, *args: Any, **kwargs: Any) -> Any:
        return self._reply("find_for_order", *args, **kwargs)


def payment(state: PaymentState) -> Payment:
    return Payment(
        id="pi_1",
        state=state,
        amount=Money(500),
        order_id=9,
        client_secret="pi_1_secret",
        failure_message="no" if state is PaymentState.FAILED else None,
    )


@pytest.mark.parametrize(
    ("state", "outcome"),
    [
        (PaymentState.SUCCEEDED, PaymentOutcome.PAID),
        (PaymentState.REQUIRES_ACTION, PaymentOutcome.REQUIRES_ACTION),
        (PaymentState.PROCESSING, PaymentOutcome.PENDING),
        (PaymentState.FAILED, PaymentOutcome.DECLINED),
        (PaymentState.REFUNDED, PaymentOutcome.REFUNDED),
    ],
)
def test_a_payment_becomes_its_outcome_with_everything_the_gateway_said(
    state: PaymentState, outcome: PaymentOutcome
) -> None:
    answer = payment(state)
    gateway = Gateway(answer)
    service = PaymentService(gateway)  # type: ignore[arg-type]
    expected = PaymentResult(
        outcome, "pi_1", answer.failure_message, client_secret="pi_1_secret", payment=answer
    )
    paid = service.pay(
        Money(500), "tok_visa", order_id=9, idempotency_key="key-1", order_reference="ref"
    )
    assert paid == expected
    assert service.status("pi_1") == expected
    assert service.refund("pi_1", amount=Money(100), idempotency_key="r") == expected
    assert service.cancel("pi_1", idempotency_key="c") == expected
    assert gateway.calls == [
        (
            "charge",
            (Money(500), "tok_visa"),
            {"order_id": 9, "idempotency_key": "key-1", "order_reference": "ref"},
        ),
        ("retrieve", ("pi_1",), {}),
        ("refund", ("pi_1",), {"amount": Money(100), "idempotency_key": "r"}),
        ("cancel", ("pi_1",), {"idempotency_key": "c"}),
    ]


def test_a_decline_is_an_outcome_with_the_gateways_message_and_payment() -> None:
    service = PaymentService(Gateway(PaymentDeclined("Insufficient funds", payment_id="pi_2")))  # type: ignore[arg-type]
    assert service.pay(Money(1), "t", order_id=1, idempotency_key="k") == PaymentResult(
        PaymentOutcome.DECLINED, payment_id="pi_2", message="Insufficient funds"
    )
    assert service.status("pi_2") == PaymentResult(
        PaymentOutcome.DECLINED, "pi_2", "Insufficient funds"
    )


@pytest.mark.parametrize(
    ("error", "level", "text"),
    [
        (PaymentMisconfigured("bad key"), logging.CRITICAL, "payment gateway misconfigured"),
        (PaymentUnavailable("timed out"), logging.WARNING, "payment gateway unavailable"),
    ],
)
def test_an_outage_or_a_misconfiguration_is_unavailable_and_logged(
    caplog: pytest.LogCaptureFixture, error: Exception, level: int, text: str
) -> None:
    service = PaymentService(Gateway(error))  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG, logger="framesell.application.payments"):
        charged = service.pay(Money(1), "t", order_id=77, idempotency_key="k")
        asked = service.status("pi_3")
        refunded = service.refund("pi_3", idempotency_key="r")
        canceled = service.cancel("pi_3", idempotency_key="c")
    assert charged == PaymentResult(PaymentOutcome.UNAVAILABLE, message=UNAVAILABLE)
    unavailable = PaymentResult(PaymentOutcome.UNAVAILABLE, "pi_3", UNAVAILABLE)
    assert asked == refunded == canceled == unavailable
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    detail = str(error)
    assert lines == [
        (level, f"{text} for order 77: {detail}"),
        (level, f"{text}: {detail}"),
        (level, f"{text}: {detail}"),
        (level, f"{text}: {detail}"),
    ]


def test_finding_an_orders_payments_passes_the_window_and_says_none_when_it_cannot(
    caplog: pytest.LogCaptureFixture,
) -> None:
    found = [payment(PaymentState.SUCCEEDED)]
    gateway = Gateway(found)
    service = PaymentService(gateway)  # type: ignore[arg-type]
    assert service.find_for_order(9, created_from=T0, created_until=T1) == found
    assert gateway.calls == [("find_for_order", (9,), {"created_from": T0, "created_until": T1})]
    with caplog.at_level(logging.DEBUG, logger="framesell.application.payments"):
        for error in (
            PaymentMisconfigured("bad key"),
            PaymentUnavailable("down"),
            PaymentDeclined("odd"),
        ):
            gateway.answer = error
            assert service.find_for_order(9, created_from=T0, created_until=T1) is None
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.CRITICAL, "payment gateway misconfigured: bad key"),
        (logging.WARNING, "payment gateway could not list payments: down"),
        (logging.WARNING, "payment gateway could not list payments: odd"),
    ]
