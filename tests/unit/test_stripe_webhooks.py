"""Webhook checkers and the event reader, without a server: each rule with its own tests.

StripeEventParser (production: the Stripe SDK on the wall clock) and SignedEventParser (the
fake gateway's: the same scheme on our Clock) must refuse the same things; event_from_json
reads only what a verified body says about which payment and order to look at.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe

from framesell.adapters.memory import FixedClock
from framesell.adapters.stripe_webhooks import (
    TOLERANCE_SECONDS,
    SignedEventParser,
    StripeEventParser,
    event_from_json,
    sign,
)
from framesell.domain.errors import InvalidPaymentEvent
from framesell.domain.records import PaymentEvent

SECRET = "whsec_unit_tests"
BAD_SIGNATURE = "invalid or expired Stripe-Signature"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
BODY = json.dumps(
    {
        "id": "evt_1",
        "type": "payment_intent.succeeded",
        "livemode": False,
        "data": {
            "object": {"id": "pi_1", "object": "payment_intent", "metadata": {"order_id": "7"}}
        },
    }
).encode()
EVENT = PaymentEvent(
    id="evt_1", type="payment_intent.succeeded", payment_id="pi_1", order_id=7, livemode=False
)

Parse = Callable[[bytes, str], PaymentEvent]
Now = Callable[[], int]


def _stripe(secret: str = SECRET, tolerance: int = TOLERANCE_SECONDS) -> tuple[Parse, Now]:
    return StripeEventParser(secret, tolerance).parse, lambda: int(time.time())


def _signed(secret: str = SECRET, tolerance: int = TOLERANCE_SECONDS) -> tuple[Parse, Now]:
    clock = FixedClock(NOW)
    return SignedEventParser(secret, clock, tolerance).parse, lambda: int(NOW.timestamp())


PARSERS = {"stripe-sdk": _stripe, "own-scheme": _signed}


@pytest.fixture(params=list(PARSERS))
def parser(request: pytest.FixtureRequest) -> Callable[..., tuple[Parse, Now]]:
    """Each checker, built with a secret and a tolerance, and the time it reads as now."""
    return PARSERS[request.param]


def refused(parse: Parse, body: bytes, signature: str, message: str = BAD_SIGNATURE) -> None:
    with pytest.raises(InvalidPaymentEvent) as error:
        parse(body, signature)
    assert error.value.message == message


def test_a_correctly_signed_recent_event_is_read(parser: Callable[..., tuple[Parse, Now]]) -> None:
    parse, now = parser()
    assert parse(BODY, sign(BODY, SECRET, now())) == EVENT


def test_the_signature_must_be_made_with_the_shops_secret(
    parser: Callable[..., tuple[Parse, Now]],
) -> None:
    parse, now = parser()
    refused(parse, BODY, sign(BODY, "whsec_another", now()))


@pytest.mark.parametrize(
    "header",
    ["", "t=1", "v1=00", "garbage", "t=abc,v1=00", "t=,v1="],
    ids=["empty", "time-only", "no-time", "garbage", "bad-time", "blank-fields"],
)
def test_a_missing_or_malformed_signature_is_refused(
    parser: Callable[..., tuple[Parse, Now]], header: str
) -> None:
    parse, _ = parser()
    refused(parse, BODY, header)


def test_a_signature_for_another_body_is_refused(parser: Callable[..., tuple[Parse, Now]]) -> None:
    parse, now = parser()
    refused(parse, BODY.replace(b'"7"', b'"8"'), sign(BODY, SECRET, now()))


def test_only_v1_signatures_count(parser: Callable[..., tuple[Parse, Now]]) -> None:
    parse, now = parser()
    digest = sign(BODY, SECRET, now()).split("v1=")[1]
    refused(parse, BODY, f"t={now()},v0={digest}")
    # One good v1 among others is enough, as when Stripe rolls a secret.
    assert parse(BODY, f"t={now()},v1={'0' * 64},v1={digest}") == EVENT


def test_a_signature_is_bound_to_its_timestamp(parser: Callable[..., tuple[Parse, Now]]) -> None:
    parse, now = parser()
    old = sign(BODY, SECRET, now() - 86_400).split(",")[1]
    refused(parse, BODY, f"t={now()},{old}")


@pytest.mark.parametrize("tolerance", [TOLERANCE_SECONDS, 10])
def test_an_event_older_than_the_tolerance_is_a_replay(
    parser: Callable[..., tuple[Parse, Now]], tolerance: int
) -> None:
    parse, now = parser(tolerance=tolerance)
    refused(parse, BODY, sign(BODY, SECRET, now() - tolerance - 2))
    refused(parse, BODY, sign(BODY, SECRET, now() - 86_400))
    assert parse(BODY, sign(BODY, SECRET, now() - tolerance + 2)) == EVENT


def test_the_default_tolerance_is_stripes_five_minutes() -> None:
    assert TOLERANCE_SECONDS == 300
    parse, now = _signed()
    assert parse(BODY, sign(BODY, SECRET, now() - 300)) == EVENT  # exactly at the limit
    refused(parse, BODY, sign(BODY, SECRET, now() - 301))
    parse, now = _stripe()
    refused(parse, BODY, sign(BODY, SECRET, now() - 305))


def test_a_signed_event_from_a_clock_a_little_ahead_is_read(
    parser: Callable[..., tuple[Parse, Now]],
) -> None:
    parse, now = parser()
    assert parse(BODY, sign(BODY, SECRET, now() + 60)) == EVENT


def test_without_a_secret_every_event_is_refused(parser: Callable[..., tuple[Parse, Now]]) -> None:
    parse, now = parser(secret="")
    refused(parse, BODY, sign(BODY, "", now()), "webhooks are not configured")


def test_a_body_that_is_not_utf8_is_refused_not_a_crash(
    parser: Callable[..., tuple[Parse, Now]],
) -> None:
    parse, now = parser()
    body = b"\xff\xfe"
    with pytest.raises(InvalidPaymentEvent):
        parse(body, sign(body, SECRET, now()))


def test_sign_makes_what_stripes_sdk_verifies() -> None:
    now = int(time.time())
    stripe.WebhookSignature.verify_header(BODY, sign(BODY, SECRET, now), SECRET, 300)
    header = sign(BODY, SECRET, now)
    assert header.startswith(f"t={now},v1=") and len(header.split("v1=")[1]) == 64
    assert sign(BODY, SECRET, now) != sign(BODY + b" ", SECRET, now)
    assert sign(BODY, SECRET, now) != sign(BODY, SECRET, now + 1)


# --- event_from_json ---------------------------------------------------------------------


def _event(obj: Any, **top: Any) -> bytes:
    return json.dumps({"id": "evt_x", "type": "some.type", "data": {"object": obj}, **top}).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff",
        b"[]",
        b"{}",
        b'{"id": "e", "type": "t"}',
        b'{"id": "e", "type": "t", "data": {}}',
        b'{"id": "e", "type": "t", "data": {"object": []}}',
        b'{"id": "e", "type": "t", "data": []}',
    ],
)
def test_an_unreadable_event_body_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidPaymentEvent) as error:
        event_from_json(body)
    assert error.value.message == "unreadable event body"


def test_a_payment_intent_names_itself_and_its_order() -> None:
    body = _event(
        {"id": "pi_9", "object": "payment_intent", "status": "succeeded",
         "metadata": {"order_id": "12"}},
        livemode=True,
    )
    assert event_from_json(body) == PaymentEvent(
        id="evt_x", type="some.type", payment_id="pi_9", order_id=12, livemode=True,
        dispute_status=None,
    )


def test_a_charge_names_its_payment_intent_plain_or_expanded() -> None:
    plain = {"id": "ch_1", "object": "charge", "payment_intent": "pi_2",
             "metadata": {"order_id": "3"}}
    expanded = {**plain, "payment_intent": {"id": "pi_2", "object": "payment_intent"}}
    for obj in (plain, expanded):
        event = event_from_json(_event(obj))
        assert (event.payment_id, event.order_id) == ("pi_2", 3)


def test_a_disputes_own_metadata_never_names_an_order() -> None:
    dispute = {"id": "dp_1", "object": "dispute", "payment_intent": "pi_4", "status": "won",
               "metadata": {"order_id": "5"}}
    assert event_from_json(_event(dispute)) == PaymentEvent(
        id="evt_x", type="some.type", payment_id="pi_4", order_id=None, livemode=None,
        dispute_status="won",
    )


@pytest.mark.parametrize(
    ("metadata", "order_id"),
    [
        ({"order_id": "123456789012345678"}, 123456789012345678),  # 18 digits: the most
        ({"order_id": "1234567890123456789"}, None),
        ({"order_id": "-1"}, None),
        ({"order_id": "1.5"}, None),
        ({"order_id": 7}, None),  # Stripe's metadata values are strings
        ({}, None),
        (None, None),
        (["order_id"], None),
        ("order_id=7", None),
    ],
)
def test_only_a_plain_number_of_at_most_18_digits_is_an_order_id(
    metadata: Any, order_id: int | None
) -> None:
    obj = {"id": "pi_1", "object": "payment_intent", "metadata": metadata}
    assert event_from_json(_event(obj)).order_id == order_id


def test_values_of_the_wrong_type_are_read_as_absent() -> None:
    obj = {"id": 5, "object": "payment_intent", "status": "succeeded"}
    event = event_from_json(_event(obj, livemode="yes"))
    assert (event.payment_id, event.livemode, event.dispute_status, event.order_id) == (
        None, None, None, None,
    )
    dispute = {"id": "dp", "object": "dispute", "payment_intent": {"no": "id"}, "status": 3}
    event = event_from_json(_event(dispute, livemode=False))
    assert (event.payment_id, event.livemode, event.dispute_status) == (None, False, None)
