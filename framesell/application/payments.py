"""The payment service: takes money through a PaymentGateway and reports outcomes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from framesell.application.ports import PaymentGateway, PaymentOutcome, PaymentResult
from framesell.domain.errors import (
    PaymentDeclined,
    PaymentMisconfigured,
    PaymentUnavailable,
)
from framesell.domain.money import Money
from framesell.domain.payments import Payment, PaymentState

log = logging.getLogger(__name__)

_OUTCOMES = {
    PaymentState.SUCCEEDED: PaymentOutcome.PAID,
    PaymentState.REQUIRES_ACTION: PaymentOutcome.REQUIRES_ACTION,
    PaymentState.PROCESSING: PaymentOutcome.PENDING,
    PaymentState.FAILED: PaymentOutcome.DECLINED,
    PaymentState.REFUNDED: PaymentOutcome.REFUNDED,
}


def _result(payment: Payment) -> PaymentResult:
    return PaymentResult(
        outcome=_OUTCOMES[payment.state],
        payment_id=payment.id,
        message=payment.failure_message,
        client_secret=payment.client_secret,
        payment=payment,
    )


class PaymentService:
    """Turns gateway answers and gateway errors into PaymentResults."""

    def __init__(self, gateway: PaymentGateway) -> None:
        self._gateway = gateway

    def pay(
        self,
        amount: Money,
        payment_token: str,
        *,
        order_id: int,
        idempotency_key: str,
        order_reference: str | None = None,
    ) -> PaymentResult:
        """Charge once per key; declines and outages become outcomes, not exceptions."""
        try:
            payment = self._gateway.charge(
                amount,
                payment_token,
                order_id=order_id,
                idempotency_key=idempotency_key,
                order_reference=order_reference,
            )
        except PaymentDeclined as declined:
            return PaymentResult(
                PaymentOutcome.DECLINED, payment_id=declined.payment_id, message=declined.message
            )
        except PaymentMisconfigured as error:
            log.critical("payment gateway misconfigured for order %s: %s", order_id, error.message)
            return PaymentResult(PaymentOutcome.UNAVAILABLE, message=PaymentUnavailable.message)
        except PaymentUnavailable as error:
            log.warning("payment gateway unavailable for order %s: %s", order_id, error.message)
            return PaymentResult(PaymentOutcome.UNAVAILABLE, message=PaymentUnavailable.message)
        return _result(payment)

    def status(self, payment_id: str) -> PaymentResult:
        """Return how a payment stands now, or UNAVAILABLE when the gateway cannot say."""
        return self._ask(payment_id, lambda: self._gateway.retrieve(payment_id))

    def refund(
        self, payment_id: str, *, amount: Money | None = None, idempotency_key: str
    ) -> PaymentResult:
        """Refund ``amount`` (or the rest) once per key, or say UNAVAILABLE."""
        return self._ask(
            payment_id,
            lambda: self._gateway.refund(
                payment_id, amount=amount, idempotency_key=idempotency_key
            ),
        )

    def find_for_order(
        self, order_id: int, *, created_from: datetime, created_until: datetime
    ) -> list[Payment] | None:
        """The gateway's payments for this order in the window, or None if it cannot say."""
        try:
            return self._gateway.find_for_order(
                order_id, created_from=created_from, created_until=created_until
            )
        except PaymentMisconfigured as error:
            log.critical("payment gateway misconfigured: %s", error.message)
        except (PaymentUnavailable, PaymentDeclined) as error:
            log.warning("payment gateway could not list payments: %s", error.message)
        return None

    def cancel(self, payment_id: str, *, idempotency_key: str) -> PaymentResult:
        """Cancel an unfinished payment; a canceled one is DECLINED, a succeeded one PAID."""
        return self._ask(
            payment_id,
            lambda: self._gateway.cancel(payment_id, idempotency_key=idempotency_key),
        )

    def _ask(self, payment_id: str, call: Callable[[], Payment]) -> PaymentResult:
        """One gateway call about an existing payment, its failures turned into outcomes."""
        try:
            return _result(call())
        except PaymentMisconfigured as error:
            log.critical("payment gateway misconfigured: %s", error.message)
        except PaymentUnavailable as error:
            log.warning("payment gateway unavailable: %s", error.message)
        except PaymentDeclined as error:
            return PaymentResult(PaymentOutcome.DECLINED, payment_id, error.message)
        return PaymentResult(PaymentOutcome.UNAVAILABLE, payment_id, PaymentUnavailable.message)
