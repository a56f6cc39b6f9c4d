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
