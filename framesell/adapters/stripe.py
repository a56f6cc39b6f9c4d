"""The PaymentGateway on Stripe PaymentIntents, through the official ``stripe`` SDK."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import stripe

from framesell.domain.errors import PaymentDeclined, PaymentMisconfigured, PaymentUnavailable
from framesell.domain.money import Money
from framesell.domain.payments import Payment, PaymentState

log = logging.getLogger(__name__)

# The Stripe API version every request names (the Stripe-Version header), pinned here rather
# than left to whichever version the installed SDK defaults to: the shapes this adapter reads
# are those of this version. Raise it deliberately, with the SDK, after reading Stripe's
# changelog (docs/going-live.md); the webhook endpoint should use the same version.
STRIPE_API_VERSION = "2026-10-28.endive"

T = TypeVar("T")

# The parameters that name what the shopper paid with: a missing one is the shopper's bad
# token (a stale or forged id from the browser), not our misconfiguration.
_SHOPPER_PARAMS = frozenset({"payment_method", "card[token]", "card", "confirmation_token"})
_SHOPPER_MISSING_PREFIXES = ("No such token", "No such PaymentMethod", "No such payment_method",
                             "No such confirmationtoken", "No such ConfirmationToken")
# Stripe's error codes (docs.stripe.com/error-codes) for a charge refused because of the
# payment details the browser sent, or of the amount itself: a decline for this order (402,
# FAILED), never an outage. Stripe answers them with a 400 invalid_request_error.
_SHOPPER_ERROR_CODES = frozenset({
    "token_already_used",
    "payment_method_unexpected_state",
    "payment_method_unactivated",
    "payment_method_not_available",
    "payment_method_invalid_parameter",
    "payment_method_provider_decline",
    "payment_intent_authentication_failure",
    "payment_intent_incompatible_payment_method",
    "incorrect_number",
    "invalid_number",
    "invalid_expiry_month",
    "invalid_expiry_year",
    "invalid_cvc",
    "expired_card",
    "card_declined",
    "amount_too_small",
    "amount_too_large",
})


class StripeGateway:
    """Charges, looks up and refunds card payments as Stripe PaymentIntents.

    Every POST carries an idempotency key, so the SDK's own retries (``max_retries``,
    default 2: connection errors, timeouts, 409 and 5xx, with backoff) can never charge
    twice; they hide a blip from the shopper at the cost of at most three ``timeout_seconds``
    waits before PaymentUnavailable. Pass ``max_retries=0`` to fail fast instead.
    The client is per instance: the SDK's module-level ``stripe.api_key`` is never touched.
    """

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str | None = None,
        timeout_seconds: float = 10.0,
        max_retries: int = 2,
    ) -> None:
        if not secret_key:
            raise PaymentMisconfigured("the Stripe secret key is missing")
        self._secret_key = secret_key  # only to scrub it from messages we pass on
        self._client = stripe.StripeClient(
            secret_key,
            stripe_version=STRIPE_API_VERSION,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_retries,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    def charge(
        self,
        amount: Money,
        payment_token: str,
        *,
        order_id: int,
        idempotency_key: str,
        order_reference: str | None = None,
    ) -> Payment:
        """Create and confirm a PaymentIntent once per key; a declined card raises."""
        metadata = {"order_id": str(order_id)}
        if order_reference:
            metadata["order_reference"] = order_reference
        params: dict[str, Any] = {
            "amount": amount.cents,
            "currency": amount.currency,
            "metadata": metadata,
            "confirm": True,
            # Cards only: no redirect-based method can appear, so no return_url is needed.
            "payment_method_types": ["card"],
        }
        if payment_token.startswith("ctoken_"):
            params["confirmation_token"] = payment_token
        elif payment_token.startswith("tok_"):
            params["payment_method"] = self._payment_method_from_token(
                payment_token, idempotency_key
            )
        else:
            params["payment_method"] = payment_token
        intent = self._call(
            lambda: self._client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
            charging=True,
        )
        payment = _payment(intent.to_dict())
        if payment.state is PaymentState.FAILED:
            raise PaymentDeclined(payment.failure_message, payment_id=payment.id)
        return payment

    def retrieve(self, payment_id: str) -> Payment:
        """Return Stripe's current view of a PaymentIntent, refunds included."""
        intent = self._call(
            lambda: self._client.v1.payment_intents.retrieve(
                payment_id, params={"expand": ["latest_charge"]}
            )
        )
        return _payment(intent.to_dict())

    def refund(
        self, payment_id: str, *, amount: Money | None = None, idempotency_key: str
    ) -> Payment:
        """Refund ``amount`` (the rest when None) once per key; return the PaymentIntent."""
        params: dict[str, Any] = {"payment_intent": payment_id}
        if amount is not None:
            params["amount"] = amount.cents
        # Refunded in full earlier under another key: the money is back either way.
        with contextlib.suppress(_AlreadyRefunded):
            self._call(
                lambda: self._client.v1.refunds.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": idempotency_key},
                )
            )
        return self.retrieve(payment_id)

    def find_for_order(
        self, order_id: int, *, created_from: datetime, created_until: datetime
    ) -> list[Payment]:
        """The PaymentIntents created in the window whose ``metadata.order_id`` is the order.

        Listed by creation time (every page) rather than with Stripe's search, whose index
        lags by up to a minute and which is not offered in every country.
        """
        params = {
            "created": {
                "gte": int(created_from.timestamp()),
                "lte": int(created_until.timestamp()) + 1,
            },
            "limit": 100,
        }
        intents = self._call(
            lambda: self._client.v1.payment_intents.list(params=params)  # type: ignore[arg-type]
        )
        found = []
        for intent in self._call(lambda: list(intents.auto_paging_iter())):
            metadata = intent.to_dict().get("metadata") or {}
            if metadata.get("order_id") == str(order_id):
                found.append(self.retrieve(str(intent.id)))
        return found

    def cancel(self, payment_id: str, *, idempotency_key: str) -> Payment:
        """Cancel an unfinished PaymentIntent once per key; return it as it now stands."""
        # A PaymentIntent that succeeded (or was canceled) meanwhile cannot be canceled:
        # Stripe refuses with a 400 (payment_intent_unexpected_state, which _call makes a
        # PaymentMisconfigured), and the payment's current state is the answer.
        try:
            self._call(
                lambda: self._client.v1.payment_intents.cancel(
                    payment_id, options={"idempotency_key": idempotency_key}
                )
            )
        except PaymentMisconfigured:
            payment = self.retrieve(payment_id)
            if payment.state in (PaymentState.REQUIRES_ACTION, PaymentState.PROCESSING):
                raise PaymentMisconfigured(f"Stripe refused to cancel {payment_id}") from None
            return payment
        return self.retrieve(payment_id)

    def _payment_method_from_token(self, token: str, idempotency_key: str) -> str:
        method = self._call(
            lambda: self._client.v1.payment_methods.create(
                params={"type": "card", "card": {"token": token}},
                options={"idempotency_key": f"{idempotency_key}:pm"},
            ),
            charging=True,
        )
        return str(method.id)

    def _call(self, request: Callable[[], T], *, charging: bool = False) -> T:
        """Run one SDK call, turning every ``stripe`` error into a domain error.

        Stripe's request id (``req_…``) of every answer, success or error, is logged, so a
        payment can be looked up in Stripe's dashboard from our logs.
        """
        try:
            try:
                result = request()
            except stripe.StripeError as error:
                _log_stripe_answer(error.request_id, error.http_status, type(error).__name__)
                raise
            answer = getattr(result, "last_response", None)
            _log_stripe_answer(
                getattr(answer, "request_id", None),
                getattr(answer, "code", None),
                str(getattr(result, "object", type(result).__name__)),
            )
            return result
        except stripe.CardError as error:
            raise PaymentDeclined(
                error.user_message or PaymentDeclined.message, payment_id=_intent_id(error)
            ) from None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
            log.warning("Stripe unavailable: %s (HTTP %s)", type(error).__name__,
                        error.http_status)
            raise PaymentUnavailable() from None
        except stripe.InvalidRequestError as error:
            if charging and _is_shoppers_mistake(error):
                raise PaymentDeclined(
                    _shopper_message(error), payment_id=_intent_id(error)
                ) from None
            if error.code == "charge_already_refunded":
                raise _AlreadyRefunded() from None
            raise self._misconfigured(error) from None
        except (stripe.AuthenticationError, stripe.PermissionError) as error:
            # Stripe's own message quotes part of the key: never pass it on.
            raise PaymentMisconfigured(
                f"Stripe refused our credentials (HTTP {error.http_status})"
            ) from None
        except stripe.StripeError as error:  # IdempotencyError and anything newer
            raise self._misconfigured(error) from None

    def _misconfigured(self, error: stripe.StripeError) -> PaymentMisconfigured:
        code = f" [{error.code}]" if error.code else ""
        message = (
            f"Stripe rejected our request ({type(error).__name__}, HTTP {error.http_status}"
            f"{code}): {error.user_message}"
        )
        return PaymentMisconfigured(message.replace(self._secret_key, "sk_…(redacted)"))


def _log_stripe_answer(request_id: str | None, http_status: int | None, what: str) -> None:
    log.info(
        "Stripe answered %s (HTTP %s, request %s)",
        what,
        http_status,
        request_id,
        extra={"stripe_request_id": request_id, "stripe_http_status": http_status},
    )


class _AlreadyRefunded(Exception):
    """Stripe's charge_already_refunded; never leaves this module."""


def _is_shoppers_mistake(error: stripe.InvalidRequestError) -> bool:
    """Whether Stripe refused the charge because of what the shopper paid with."""
    message = error.user_message or ""
    if message.startswith(_SHOPPER_MISSING_PREFIXES):
        return True
    if error.code in _SHOPPER_ERROR_CODES:
        return True
    param = getattr(error, "param", None)
    return error.code == "resource_missing" and param in _SHOPPER_PARAMS


def _shopper_message(error: stripe.InvalidRequestError) -> str:
    """A message fit for the shopper: Stripe's own for the payment details, ours otherwise."""
    if error.code in ("amount_too_small", "amount_too_large"):
        return "This amount cannot be paid by card; please contact the shop."
    if error.code == "token_already_used":
        return "These card details were already used; please enter your card again."
    return error.user_message or "Your payment details cannot be used; please try another card."


def _intent_id(error: stripe.StripeError) -> str | None:
    body = error.json_body if isinstance(error.json_body, dict) else {}
    details = body.get("error") or {}
    intent = details.get("payment_intent") if isinstance(details, dict) else None
    if isinstance(intent, dict):
        intent = intent.get("id")
    return intent if isinstance(intent, str) else None


def _payment(intent: dict[str, Any]) -> Payment:
    """Translate a PaymentIntent (as a plain dict) into the shop's Payment."""
    status = intent.get("status")
    error = intent.get("last_payment_error") or {}
    state = _state(status, intent)
    metadata = intent.get("metadata") or {}
    order_id = str(metadata.get("order_id", ""))
    charge = intent.get("latest_charge")
    refunded = int(charge.get("amount_refunded") or 0) if isinstance(charge, dict) else 0
    reference = metadata.get("order_reference")
    return Payment(
        id=str(intent["id"]),
        state=state,
        amount=Money(int(intent["amount"]), str(intent["currency"]).lower()),
        order_id=int(order_id) if order_id.isdigit() else None,
        client_secret=intent.get("client_secret") if state is PaymentState.REQUIRES_ACTION
        else None,
        failure_message=_failure_message(status, error) if state is PaymentState.FAILED
        else None,
        refunded_cents=refunded if status == "succeeded" else 0,
        order_reference=str(reference) if reference else None,
    )


def _failure_message(status: Any, error: dict[str, Any]) -> str:
    if error.get("message"):
        return str(error["message"])
    return "the payment was canceled" if status == "canceled" else PaymentDeclined.message


def _state(status: Any, intent: dict[str, Any]) -> PaymentState:
    if status == "succeeded":
        charge = intent.get("latest_charge")
        if isinstance(charge, dict) and (
            charge.get("refunded")
            or int(charge.get("amount_refunded") or 0) >= int(intent.get("amount") or 0)
        ):
            return PaymentState.REFUNDED
        return PaymentState.SUCCEEDED
    if status == "requires_action" or (
        status == "requires_confirmation" and intent.get("next_action")
    ):
        return PaymentState.REQUIRES_ACTION
    if status in ("requires_payment_method", "canceled"):
        return PaymentState.FAILED
    # processing, requires_capture, and a confirmation not yet attempted: not settled yet.
    return PaymentState.PROCESSING
