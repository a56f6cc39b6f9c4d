"""What a payment gateway reports about a payment, in the shop's own words."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from framesell.domain.money import Money


class PaymentState(enum.Enum):
    """The gateway's view of one payment (a Stripe PaymentIntent, or a fake one)."""

    SUCCEEDED = "succeeded"
    REQUIRES_ACTION = "requires_action"  # the bank wants 3-D Secure from the shopper
    PROCESSING = "processing"  # accepted, outcome not known yet
    FAILED = "failed"  # declined, authentication failed, or canceled
    REFUNDED = "refunded"


@dataclass(frozen=True)
class Payment:
    """One payment as the gateway knows it."""

    id: str
    state: PaymentState
    amount: Money
    order_id: int | None = None
    client_secret: str | None = None
    failure_message: str | None = None
    # Cents given back so far (partial refunds add up); the state is REFUNDED once it is all.
    refunded_cents: int = 0
    # The idempotency reference the shop wrote into the payment's metadata, when there is one.
    order_reference: str | None = None

    @property
    def charged(self) -> bool:
        """Whether money was taken (whatever was refunded since)."""
        return self.state in (PaymentState.SUCCEEDED, PaymentState.REFUNDED)
