"""Point the fake Stripe's webhook deliveries at a shop (localstripe's /_config/webhooks)."""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Sequence

# The events FrameSell acts on (POST /api/webhooks/stripe/).
WEBHOOK_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
)


def register_webhook(
    stripe_url: str, endpoint: str, secret: str, events: Sequence[str], name: str = "framesell"
) -> None:
    """Have the fake Stripe POST these event types to ``endpoint``, signed with ``secret``."""
    fields = [("url", endpoint), ("secret", secret)] + [("events[]", e) for e in events]
    request = urllib.request.Request(
        f"{stripe_url}/_config/webhooks/{name}",
        data=urllib.parse.urlencode(fields).encode(),
        method="POST",
        headers={"Authorization": "Bearer sk_test_framesell_development"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
