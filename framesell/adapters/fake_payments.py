"""An in-memory PaymentGateway that answers like Stripe's test mode, for tests and demos."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from framesell.domain.errors import (
    PaymentDeclined,
    PaymentError,
    PaymentMisconfigured,
    PaymentUnavailable,
)
from framesell.domain.money import MINIMUM_CHARGE_CENTS, Money
from framesell.domain.payments import Payment, PaymentState

DECLINED = "Your card was declined."

# Stripe's test card numbers that do something other than succeed, with the shopper-facing
# message Stripe gives (see Stripe's "Testing" page, "Declined payments" and "3D Secure").
DECLINE_MESSAGES = {
    "4000000000000002": DECLINED,  # generic_decline
    "4000000000009995": "Your card has insufficient funds.",
    "4000000000009987": DECLINED,  # lost_card
    "4000000000009979": DECLINED,  # stolen_card
    "4000000000000069": "Your card has expired.",
    "4000000000000127": "Your card's security code is incorrect.",
    "4000000000000119": "An error occurred while processing your card. Try again in a little bit.",
    "4000000000000341": DECLINED,  # attaches fine, every charge fails
}
AUTHENTICATION_REQUIRED = frozenset(
    {"4000002500003155", "4000002760003184", "4000000000003220", "4000000000003063"}
)

# Stripe's reusable test tokens and PaymentMethods, by the card number they stand for.
TEST_TOKENS = {
    "tok_visa": "4242424242424242",
    "tok_visa_debit": "4000056655665556",
    "tok_mastercard": "5555555555554444",
    "tok_amex": "378282246310005",
    "tok_discover": "6011111111111117",
    "tok_chargeDeclined": "4000000000000002",
    "tok_visa_chargeDeclined": "4000000000000002",
    "tok_chargeDeclinedInsufficientFunds": "4000000000009995",
    "tok_chargeDeclinedExpiredCard": "4000000000000069",
    "tok_chargeDeclinedIncorrectCvc": "4000000000000127",
    "tok_chargeDeclinedProcessingError": "4000000000000119",
    "tok_threeDSecure2Required": "4000000000003220",
}
TEST_PAYMENT_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_threeDSecure2Required": "4000000000003220",
}


def _luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


@dataclass
class _Intent:
    payment: Payment
    card_number: str
    created_at: datetime
    refunded_cents: int = 0
    canceled: bool = False


class FakePaymentGateway:
    """Stripe's test mode in memory: test tokens and cards, idempotency keys, refunds."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._used_tokens: set[str] = set()
        self._lock = threading.RLock()
        self._cards: dict[str, str] = {}  # token / PaymentMethod / ConfirmationToken -> number
        self._intents: dict[str, _Intent] = {}  # in creation order
        self._charges: dict[str, tuple[tuple[object, ...], Payment | PaymentError]] = {}
        self._refunds: dict[str, tuple[tuple[str, Money | None], Payment]] = {}
        self._refunded_cents: list[tuple[str, int]] = []
        self._faults: list[tuple[PaymentError, bool]] = []

    # --- what Stripe.js would do in the browser -------------------------------------------

    def create_token(self, card_number: str) -> str:
        """Return a new ``tok_…`` for this card number, as Stripe.js's createToken would."""
        return self._remember("tok_", card_number)

    def create_payment_method(self, card_number: str) -> str:
        """Return a new ``pm_…`` for this card number, as Stripe.js's createPaymentMethod would."""
        return self._remember("pm_", card_number)

    def create_confirmation_token(self, card_number: str) -> str:
        """Return a new ``ctoken_…`` for this card number, as Stripe.js would."""
        return self._remember("ctoken_", card_number)

    def complete_authentication(self, payment_id: str, *, succeed: bool = True) -> Payment:
        """Finish 3-D Secure in the shopper's stead: the charge succeeds or the payment fails."""
        with self._lock:
            intent = self._intent(payment_id)
            if intent.payment.state is not PaymentState.REQUIRES_ACTION:
                raise PaymentMisconfigured(f"payment {payment_id} does not require action")
            if not succeed:
                message = "The provided PaymentMethod has failed authentication."
                intent.payment = replace(
                    intent.payment, state=PaymentState.FAILED, client_secret=None,
                    failure_message=message,
                )
            elif intent.card_number in DECLINE_MESSAGES:
                intent.payment = replace(
                    intent.payment, state=PaymentState.FAILED, client_secret=None,
                    failure_message=DECLINE_MESSAGES[intent.card_number],
                )
            else:
                intent.payment = replace(
                    intent.payment, state=PaymentState.SUCCEEDED, client_secret=None
                )
            return intent.payment

    def pay_again_with_secret(self, payment_id: str) -> Payment:
        """The shopper confirms a failed payment again in the browser (it still has the
        client secret), with a card that pays; refused once the payment is canceled."""
        with self._lock:
            intent = self._intent(payment_id)
            if intent.canceled or intent.payment.state is not PaymentState.FAILED:
                raise PaymentMisconfigured(f"payment {payment_id} cannot be confirmed again")
            intent.payment = replace(
                intent.payment, state=PaymentState.SUCCEEDED, failure_message=None
            )
            return self._current(intent)

    # --- fault injection ------------------------------------------------------------------

    def fail_next_with(
        self, error: PaymentError | type[PaymentError], *, after_charging: bool = False
    ) -> None:
        """Make the next gateway call raise ``error``.

        With ``after_charging`` the next charge or refund is carried out first and only its
        answer is lost, as when Stripe charged but the response timed out.
        """
        with self._lock:
            self._faults.append((error() if isinstance(error, type) else error, after_charging))

    # --- introspection for tests ----------------------------------------------------------

    @property
    def payments(self) -> list[Payment]:
        """Every PaymentIntent created so far, oldest first, as it stands now."""
        with self._lock:
            return [self._current(intent) for intent in self._intents.values()]

    def payments_for_order(self, order_id: int) -> list[Payment]:
        """Every PaymentIntent created for this order, oldest first."""
        return [p for p in self.payments if p.order_id == order_id]

    def charges_for_order(self, order_id: int) -> list[Payment]:
        """The payments of this order that took money (succeeded, refunded or not)."""
        return [
            p for p in self.payments_for_order(order_id)
            if p.state in (PaymentState.SUCCEEDED, PaymentState.REFUNDED)
        ]

    def is_canceled(self, payment_id: str) -> bool:
        """Whether this payment was canceled (it can no longer be confirmed)."""
        with self._lock:
            return self._intent(payment_id).canceled

    def refunded_cents(self, payment_id: str) -> int:
        """How many cents of this payment have been given back."""
        with self._lock:
            return sum(cents for pid, cents in self._refunded_cents if pid == payment_id)

    # --- the PaymentGateway port ----------------------------------------------------------

    def charge(
        self,
        amount: Money,
        payment_token: str,
        *,
        order_id: int,
        idempotency_key: str,
        order_reference: str | None = None,
    ) -> Payment:
        """Create and confirm a payment once per key, answering as Stripe's test mode does."""
        with self._lock:
            lose_answer = self._take_fault()
            fingerprint = (amount, payment_token, order_id, order_reference)
            if idempotency_key in self._charges:
                first, outcome = self._charges[idempotency_key]
                if first != fingerprint:
                    raise _idempotency_error(idempotency_key)
            else:
                outcome = self._charge(amount, payment_token, order_id, order_reference)
                self._charges[idempotency_key] = (fingerprint, outcome)
            if lose_answer is not None:
                raise lose_answer
            if isinstance(outcome, PaymentError):
                raise _copy(outcome)
            return self._current(self._intents[outcome.id])

    def retrieve(self, payment_id: str) -> Payment:
        """Return the payment as it stands now."""
        with self._lock:
            lose_answer = self._take_fault()
            payment = self._current(self._intent(payment_id))
            if lose_answer is not None:
                raise lose_answer
            return payment

    def refund(
        self, payment_id: str, *, amount: Money | None = None, idempotency_key: str
    ) -> Payment:
        """Refund ``amount`` (the rest when None) once per key, as Stripe does.

        A refund of more than is left is refused (our mistake); a full refund of a payment
        refunded in full already gives nothing more.
        """
        with self._lock:
            lose_answer = self._take_fault()
            request = (payment_id, amount)
            if idempotency_key in self._refunds:
                first, _ = self._refunds[idempotency_key]
                if first != request:
                    raise _idempotency_error(idempotency_key)
            else:
                intent = self._intent(payment_id)
                if intent.payment.state is not PaymentState.SUCCEEDED:
                    raise PaymentMisconfigured(f"payment {payment_id} cannot be refunded")
                left = intent.payment.amount.cents - intent.refunded_cents
                cents = left if amount is None else amount.cents
                if cents > left or (cents <= 0 and amount is not None):
                    raise PaymentMisconfigured(
                        f"Refund amount ({cents}) is greater than unrefunded amount on charge"
                        f" ({left})"
                    )
                if cents > 0:
                    intent.refunded_cents += cents
                    self._refunded_cents.append((payment_id, cents))
                self._refunds[idempotency_key] = (request, self._current(intent))
            if lose_answer is not None:
                raise lose_answer
            return self._current(self._intents[payment_id])

    def refund_elsewhere(self, payment_id: str, cents: int) -> Payment:
        """Refund part of a payment as an operator would in Stripe's dashboard."""
        return self.refund(
            payment_id, amount=Money(cents), idempotency_key=f"dashboard-{secrets.token_hex(8)}"
        )

    def find_for_order(
        self, order_id: int, *, created_from: datetime, created_until: datetime
    ) -> list[Payment]:
        """The payments created in the window for this order, oldest first."""
        with self._lock:
            lose_answer = self._take_fault()
            found = [
                self._current(intent)
                for intent in self._intents.values()
                if intent.payment.order_id == order_id
                and created_from <= intent.created_at <= created_until
            ]
            if lose_answer is not None:
                raise lose_answer
            return found

    def cancel(self, payment_id: str, *, idempotency_key: str) -> Payment:
        """Cancel an unfinished payment; a succeeded or refunded one is returned unchanged."""
        with self._lock:
            lose_answer = self._take_fault()
            intent = self._intent(payment_id)
            if intent.payment.state is PaymentState.FAILED:
                intent.canceled = True  # Stripe cancels a PaymentIntent awaiting a new card
            if intent.payment.state in (PaymentState.REQUIRES_ACTION, PaymentState.PROCESSING):
                intent.canceled = True
                intent.payment = replace(
                    intent.payment,
                    state=PaymentState.FAILED,
                    client_secret=None,
                    failure_message="The payment was canceled.",
                )
            if lose_answer is not None:
                raise lose_answer
            return self._current(intent)

    # --- internals ------------------------------------------------------------------------

    def _remember(self, prefix: str, card_number: str) -> str:
        number = card_number.replace(" ", "")
        if not (number.isdigit() and 13 <= len(number) <= 19 and _luhn_ok(number)):
            raise PaymentDeclined("Your card number is incorrect.")
        token = prefix + secrets.token_hex(12)
        with self._lock:
            self._cards[token] = number
        return token

    def _card_number(self, payment_token: str) -> str:
        number = (
            self._cards.get(payment_token)
            or TEST_TOKENS.get(payment_token)
            or TEST_PAYMENT_METHODS.get(payment_token)
        )
        if number is not None:
            return number
        if payment_token.startswith("pm_"):
            raise PaymentDeclined(f"No such PaymentMethod: '{payment_token}'")
        if payment_token.startswith("ctoken_"):
            raise PaymentDeclined(f"No such confirmationtoken: '{payment_token}'")
        raise PaymentDeclined(f"No such token: '{payment_token}'")

    def _charge(
        self, amount: Money, payment_token: str, order_id: int, reference: str | None
    ) -> Payment | PaymentError:
        try:
            number = self._card_number(payment_token)
        except PaymentDeclined as missing:
            return missing  # Stripe creates no PaymentIntent for a missing payment method
        if payment_token.startswith("tok_") and payment_token in self._cards:
            if payment_token in self._used_tokens:
                return PaymentDeclined(
                    "These card details were already used; please enter your card again."
                )
            self._used_tokens.add(payment_token)
        if amount.cents < MINIMUM_CHARGE_CENTS.get(amount.currency, 0):
            return PaymentDeclined("This amount cannot be paid by card; please contact the shop.")
        payment_id = "pi_" + secrets.token_hex(12)
        payment = Payment(id=payment_id, state=PaymentState.SUCCEEDED, amount=amount,
                          order_id=order_id, order_reference=reference)
        if number in AUTHENTICATION_REQUIRED:
            secret = f"{payment_id}_secret_{secrets.token_hex(8)}"
            payment = replace(payment, state=PaymentState.REQUIRES_ACTION, client_secret=secret)
        elif number in DECLINE_MESSAGES:
            message = DECLINE_MESSAGES[number]
            payment = replace(payment, state=PaymentState.FAILED, failure_message=message)
            self._intents[payment_id] = _Intent(payment, number, self._now())
            return PaymentDeclined(message, payment_id=payment_id)
        self._intents[payment_id] = _Intent(payment, number, self._now())
        return payment

    def _intent(self, payment_id: str) -> _Intent:
        intent = self._intents.get(payment_id)
        if intent is None:
            raise PaymentMisconfigured(f"No such payment_intent: '{payment_id}'")
        return intent

    def _current(self, intent: _Intent) -> Payment:
        if intent.payment.state is not PaymentState.SUCCEEDED:
            return intent.payment
        state = (
            PaymentState.REFUNDED
            if intent.refunded_cents >= intent.payment.amount.cents
            else PaymentState.SUCCEEDED
        )
        return replace(intent.payment, state=state, refunded_cents=intent.refunded_cents)

    def _take_fault(self) -> PaymentError | None:
        """Raise an injected fault now, or return one to raise after doing the work."""
        if not self._faults:
            return None
        error, after_charging = self._faults.pop(0)
        if not after_charging:
            raise error
        return error


def _idempotency_error(key: str) -> PaymentMisconfigured:
    return PaymentMisconfigured(
        "Keys for idempotent requests can only be used with the same parameters they were"
        f" first used with (key {key!r})"
    )


def _copy(error: PaymentError) -> PaymentError:
    """A fresh exception with the same meaning, so a replay never re-raises one object."""
    if isinstance(error, PaymentDeclined):
        return PaymentDeclined(error.message, payment_id=error.payment_id)
    if isinstance(error, PaymentUnavailable):
        return PaymentUnavailable(error.message)
    return type(error)(error.message)
