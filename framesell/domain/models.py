"""The shop's entities: User, Product, Order with its payment status and transitions."""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime

from framesell.domain.errors import InvalidInput, InvalidTransition
from framesell.domain.money import Money

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 150


def normalize_email(email: str) -> str:
    """Return the canonical form of an email: trimmed and lower-cased."""
    return email.strip().lower()


def validate_email(email: str) -> str:
    """Return the normalized email or raise InvalidInput when it is not one."""
    normalized = normalize_email(email)
    if not normalized:
        raise InvalidInput("email may not be blank", field="email")
    if (
        len(normalized) > MAX_EMAIL_LENGTH
        or not EMAIL_PATTERN.match(normalized)
        or has_invisible_characters(normalized)
    ):
        raise InvalidInput("enter a valid email address", field="email")
    return normalized


def has_invisible_characters(text: str) -> bool:
    """Whether text holds a control, format (bidi overrides, zero-width) or surrogate character.

    Unicode's "other" categories (Cc, Cf, Cs, Co, Cn): none belongs in an email or a name,
    and a right-to-left override makes one read as another.
    """
    return any(unicodedata.category(character)[0] == "C" for character in text)


def validate_name(value: str, field_name: str) -> str:
    """Return the trimmed name or raise InvalidInput when blank or too long."""
    name = value.strip()
    label = field_name.replace("_", " ")
    if not name:
        raise InvalidInput(f"{label} may not be blank", field=field_name)
    if has_invisible_characters(name):
        raise InvalidInput(f"{label} may not contain control characters", field=field_name)
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"{label} is longer than {MAX_NAME_LENGTH} characters", field=field_name)
    return name


@dataclass(frozen=True)
class User:
    """A shopper (or an admin) with a login email and a password hash."""

    id: int | None
    email: str
    first_name: str
    last_name: str
    password_hash: str
    is_admin: bool = False

    @property
    def full_name(self) -> str:
        """First and last name, as the shop greets the shopper."""
        return f"{self.first_name} {self.last_name}"


MAX_DESCRIPTION_LENGTH = 500
MAX_URL_LENGTH = 2048


def validate_description(description: str) -> str:
    """Return the trimmed description or raise InvalidInput when blank or too long."""
    text = description.strip()
    if not text:
        raise InvalidInput("description may not be blank", field="description")
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInput(
            f"description is longer than {MAX_DESCRIPTION_LENGTH} characters", field="description"
        )
    return text


def validate_image_url(url: str) -> str:
    """Return the URL or raise InvalidInput unless it is an https URL of sane length."""
    text = url.strip()
    if not re.match(r"^https://[^\s/$.?#][^\s]*$", text) or len(text) > MAX_URL_LENGTH:
        raise InvalidInput("url must be an https:// address of an image", field="url")
    return text


@dataclass(frozen=True)
class Product:
    """A photo print for sale: what it shows, its picture and its price."""

    id: int | None
    description: str
    url: str
    price: Money
    active: bool = True

    @classmethod
    def new(cls, description: str, url: str, price: Money) -> Product:
        """A product not stored yet, with its fields checked."""
        return cls(None, validate_description(description), validate_image_url(url), price)


class PaymentStatus(enum.Enum):
    """Where an order's payment stands; transitions only move forward."""

    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"

    def can_become(self, target: PaymentStatus) -> bool:
        """Whether moving from this status to ``target`` is a forward step."""
        return target in _ALLOWED_TRANSITIONS[self]


_ALLOWED_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.PAID, PaymentStatus.FAILED}),
    PaymentStatus.PAID: frozenset({PaymentStatus.REFUNDED}),
    PaymentStatus.FAILED: frozenset(),
    PaymentStatus.REFUNDED: frozenset(),
}


@dataclass(frozen=True)
class ProductSnapshot:
    """What was bought, frozen at the moment of the order: the price paid, not today's."""

    product_id: int
    description: str
    url: str
    price: Money

    @classmethod
    def of(cls, product: Product) -> ProductSnapshot:
        """Freeze a catalog product as it is now."""
        if product.id is None:
            raise InvalidInput("only a stored product can be ordered", field="product")
        return cls(product.id, product.description, product.url, product.price)


@dataclass(frozen=True)
class PaymentAttempt:
    """One try at taking the money for an order, as the gateway knows it.

    The payment token (a ``tok_``/``pm_`` id, never card data) is kept so that a later
    process can repeat the very same gateway call under the same idempotency key.
    """

    number: int
    idempotency_key: str
    payment_id: str | None = None
    payment_token: str | None = None


@dataclass(frozen=True)
class Order:
    """A shopper's purchase of one photo and the state of its payment."""

    id: int | None
    user_id: int
    product: ProductSnapshot
    created_at: datetime
    status: PaymentStatus = PaymentStatus.PENDING
    reference: str = ""
    attempt: PaymentAttempt | None = None
    updated_at: datetime | None = field(default=None, compare=False)

    @property
    def amount(self) -> Money:
        """The amount charged for this order."""
        return self.product.price

    def moved_to(self, target: PaymentStatus) -> Order:
        """Return this order in status ``target``, or raise InvalidTransition."""
        if not self.status.can_become(target):
            raise InvalidTransition(
                f"an order cannot go from {self.status.value} to {target.value}"
            )
        return replace(self, status=target)

    def summary(self) -> OrderSummary:
        """What a shopper's list of orders shows of this order."""
        assert self.id is not None, "only a stored order has a summary"
        return OrderSummary(self.id, self.user_id, self.product, self.created_at, self.status)

    def payment_key(self, attempt_number: int) -> str:
        """The gateway idempotency key for one payment attempt of this order."""
        return f"framesell-order-{self.reference}-attempt-{attempt_number}"


@dataclass(frozen=True)
class OrderSummary:
    """An order as the shopper's list shows it: what was bought, when, and how it stands.

    A read model: listing orders needs none of the payment attempt's fields, and reading
    fewer columns is most of a listing's cost with a pure-Python database driver.
    """

    id: int
    user_id: int
    product: ProductSnapshot
    created_at: datetime
    status: PaymentStatus
