"""What the shop remembers about requests and gateway events, so each is handled once."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from framesell.domain.models import PaymentStatus


@dataclass(frozen=True)
class RequestRecord:
    """A client's ``Idempotency-Key``: the request it named, and the answer once there is one.

    ``locked_at`` is set while a process works on the request (others get 409); a stale lock
    (a crashed process) may be taken over. ``order_id`` links the order the request created,
    so a retry resumes that order instead of creating a second one.
    """

    user_id: int
    key: str
    fingerprint: str
    created_at: datetime
    locked_at: datetime | None = None
    order_id: int | None = None
    response_status: int | None = None
    response_body: str | None = None

    @property
    def answered(self) -> bool:
        """Whether a final response is stored for replay."""
        return self.response_status is not None


class PaymentEventKind(enum.Enum):
    """The gateway events that settle an order, and the status each one leads to."""

    SUCCEEDED = "payment_intent.succeeded"
    FAILED = "payment_intent.payment_failed"
    REFUNDED = "charge.refunded"

    @property
    def target(self) -> PaymentStatus:
        """The order status this event moves an order to."""
        return {
            PaymentEventKind.SUCCEEDED: PaymentStatus.PAID,
            PaymentEventKind.FAILED: PaymentStatus.FAILED,
            PaymentEventKind.REFUNDED: PaymentStatus.REFUNDED,
        }[self]

    @property
    def source(self) -> PaymentStatus:
        """The only status an order may be in for this event to move it."""
        return PaymentStatus.PAID if self is PaymentEventKind.REFUNDED else PaymentStatus.PENDING


@dataclass(frozen=True)
class PaymentEvent:
    """A verified notification from the payment gateway (a Stripe webhook event)."""

    id: str
    type: str
    payment_id: str | None = None
    order_id: int | None = None

    @property
    def kind(self) -> PaymentEventKind | None:
        """The kind of event, or None for types the shop does not act on."""
        try:
            return PaymentEventKind(self.type)
        except ValueError:
            return None
