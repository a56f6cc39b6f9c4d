"""Every failure of the shop's rules the domain and use cases can name, as one exception tree.

Failures of the infrastructure underneath (storage, a gateway that cannot answer yet) are
in ``application/errors.py``, under the same ``DomainError`` base.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error FrameSell raises on purpose; carries a human-readable message."""

    message = "domain error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class InvalidInput(DomainError):
    """A value the shopper sent breaks a rule (blank name, short password, bad price)."""

    message = "invalid input"

    def __init__(self, message: str | None = None, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class EmailTaken(DomainError):
    """Signing up with an email that already has an account (compared case-insensitively)."""

    message = "a user with this email already exists"


class AuthenticationFailed(DomainError):
    """Wrong email or password; deliberately never says which of the two was wrong."""

    message = "authorization failure"


class TooManyAttempts(DomainError):
    """Too many failed logins, declined payments or sign-ups; try again after a wait."""

    message = "too many attempts"

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class NotAuthenticated(DomainError):
    """A request that needs a token had none, or a malformed, expired or forged one."""

    message = "authentication credentials were not provided"


class PermissionDenied(DomainError):
    """The caller is known but may not do this (an admin-only action)."""

    message = "you do not have permission to perform this action"


class NotFound(DomainError):
    """Base for an entity that does not exist or is not the caller's to see."""

    message = "not found"


class UserNotFound(NotFound):
    """No user with this id."""

    message = "user not found"


class ProductNotFound(NotFound):
    """No product with this id in the catalog."""

    message = "product not found"


class FormatNotFound(NotFound):
    """No such format of this photo."""

    message = "format not found"


class DownloadNotFound(NotFound):
    """No such digital item in the order, or no file to deliver for it."""

    message = "no download for this item"


class DownloadRefused(DomainError):
    """The order is not paid (pending, failed) or its money was all given back."""

    message = "this order is not paid, so its files cannot be downloaded"


class OrderNotFound(NotFound):
    """No order with this id for this shopper."""

    message = "order not found"


class InvalidTransition(DomainError):
    """A payment status change that would move an order backwards or sideways."""

    message = "invalid payment status transition"


class PaymentError(DomainError):
    """Base for failures reported by a payment gateway."""

    message = "payment failed"


class PaymentDeclined(PaymentError):
    """The card issuer refused the charge; the message is the gateway's, fit for the shopper."""

    message = "your card was declined"

    def __init__(self, message: str | None = None, *, payment_id: str | None = None) -> None:
        super().__init__(message)
        self.payment_id = payment_id


class PaymentUnavailable(PaymentError):
    """The gateway could not be reached, timed out, or answered 5xx/429: outcome unknown."""

    message = "payment service unavailable"


class PaymentMisconfigured(PaymentError):
    """The gateway refused our credentials or request shape: an operator must act."""

    message = "payment service unavailable"


class IdempotencyKeyInUse(DomainError):
    """A request with this Idempotency-Key is still being processed."""

    message = "a request with this Idempotency-Key is still in progress; retry later"


class IdempotencyKeyReused(DomainError):
    """The same Idempotency-Key came with a different request body."""

    message = "this Idempotency-Key was already used for a different request"


class InvalidPaymentEvent(DomainError):
    """A webhook whose signature is missing, wrong or too old, or whose body is unreadable."""

    message = "invalid payment event"


class MailUnavailable(DomainError):
    """The mail server could not take a message now; the outbox tries again later."""

    message = "the mail server is unavailable"


class InvalidResetToken(InvalidInput):
    """A password-reset token that is unknown, expired or already used (400, field token)."""

    message = "this link is invalid, used or expired; ask for a new one"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field="token")
