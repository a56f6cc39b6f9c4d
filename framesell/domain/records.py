"""What the shop remembers about requests and gateway events, so each is handled once."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


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
    """The gateway events the shop acts on."""

    SUCCEEDED = "payment_intent.succeeded"
    FAILED = "payment_intent.payment_failed"
    CANCELED = "payment_intent.canceled"
    REFUNDED = "charge.refunded"
    DISPUTE_CREATED = "charge.dispute.created"
    DISPUTE_UPDATED = "charge.dispute.updated"
    DISPUTE_CLOSED = "charge.dispute.closed"

    @property
    def about_a_dispute(self) -> bool:
        """Whether the event reports a chargeback rather than the payment itself."""
        return self.value.startswith("charge.dispute.")


@dataclass(frozen=True)
class PaymentEvent:
    """A verified notification from the payment gateway (a Stripe webhook event).

    It only says which payment to look at: the payment's state is read from the gateway
    itself, so events may come late, twice or in any order. ``livemode`` is the gateway's
    mode the event was sent in (None when the body did not say); ``dispute_status`` is the
    chargeback's status for dispute events.
    """

    id: str
    type: str
    payment_id: str | None = None
    order_id: int | None = None
    livemode: bool | None = None
    dispute_status: str | None = None

    @property
    def kind(self) -> PaymentEventKind | None:
        """The kind of event, or None for types the shop does not act on."""
        try:
            return PaymentEventKind(self.type)
        except ValueError:
            return None
