"""The shop's entities: User, Product, Order with its payment status and transitions."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from framesell.domain.errors import InvalidInput
from framesell.domain.money import MINIMUM_CHARGE_CENTS, Money
from framesell.domain.payments import Payment, PaymentState

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


def validate_price(price: Money) -> Money:
    """Return the price or raise InvalidInput when the gateway could not charge it."""
    minimum = MINIMUM_CHARGE_CENTS.get(price.currency, 1)
    if price.cents < minimum:
        raise InvalidInput(
            f"a price must be at least {Money(minimum, price.currency).major}"
            f" {price.currency.upper()}, the smallest amount a card can be charged",
            field="price",
        )
    return price


class FormatKind(enum.Enum):
    """What a format delivers: the photo's file, or a print of it shipped to an address."""

    DIGITAL = "digital"
    PRINT = "print"


DIGITAL_LABEL = "Digital download"
MAX_LABEL_LENGTH = 100


def validate_label(label: str) -> str:
    """Return the trimmed label of a format or raise InvalidInput."""
    text = label.strip()
    if not text:
        raise InvalidInput("label may not be blank", field="label")
    if has_invisible_characters(text):
        raise InvalidInput("label may not contain control characters", field="label")
    if len(text) > MAX_LABEL_LENGTH:
        raise InvalidInput(f"label is longer than {MAX_LABEL_LENGTH} characters", field="label")
    return text


@dataclass(frozen=True)
class Format:
    """One way to buy a photo: its digital download, or a print in one size, at its price."""

    id: int | None
    kind: FormatKind
    label: str
    price: Money

    @classmethod
    def digital(cls, price: Money) -> Format:
        """The digital download at this price (the original shop's only purchase)."""
        return cls(None, FormatKind.DIGITAL, DIGITAL_LABEL, validate_price(price))

    @classmethod
    def print_size(cls, label: str, price: Money) -> Format:
        """A print format not stored yet, with its fields checked."""
        return cls(None, FormatKind.PRINT, validate_label(label), validate_price(price))


@dataclass(frozen=True)
class Product:
    """A photo for sale: what it shows, its public preview, its price and its formats.

    ``price`` is the digital download's price (what the original shop sold); ``formats``
    holds that download first, then the print sizes. ``file_url`` is the full-resolution
    file a digital purchase delivers: never shown in the catalog.
    """

    id: int | None
    description: str
    url: str
    price: Money
    active: bool = True
    formats: tuple[Format, ...] = ()
    file_url: str | None = None

    @classmethod
    def new(cls, description: str, url: str, price: Money) -> Product:
        """A product not stored yet, with its fields checked and its digital format."""
        checked = validate_price(price)
        return cls(
            None,
            validate_description(description),
            validate_image_url(url),
            checked,
            formats=(Format.digital(checked),),
        )

    def format(self, format_id: int | None) -> Format:
        """The format with this id (None: the digital download); InvalidInput if unknown."""
        for candidate in self.formats:
            if (format_id is None and candidate.kind is FormatKind.DIGITAL) or (
                format_id is not None and candidate.id == format_id
            ):
                return candidate
        if format_id is None:  # a product stored before formats existed
            return Format(None, FormatKind.DIGITAL, DIGITAL_LABEL, self.price)
        raise InvalidInput("this photo is not sold in that format", field="format")


MAX_ADDRESS_FIELD_LENGTH = 200
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def _address_field(value: str, field_name: str, *, required: bool = True) -> str:
    text = value.strip()
    label = field_name.replace("_", " ")
    if required and not text:
        raise InvalidInput(f"shipping {label} may not be blank", field=f"shipping.{field_name}")
    if has_invisible_characters(text):
        raise InvalidInput(
            f"shipping {label} may not contain control characters", field=f"shipping.{field_name}"
        )
    if len(text) > MAX_ADDRESS_FIELD_LENGTH:
        raise InvalidInput(
            f"shipping {label} is longer than {MAX_ADDRESS_FIELD_LENGTH} characters",
            field=f"shipping.{field_name}",
        )
    return text


@dataclass(frozen=True)
class ShippingAddress:
    """Where prints are shipped, with Stripe's address field names."""

    name: str
    line1: str
    line2: str
    city: str
    postal_code: str
    country: str

    @classmethod
    def new(
        cls, *, name: str, line1: str, line2: str = "", city: str, postal_code: str, country: str
    ) -> ShippingAddress:
        """An address with every field checked; ``country`` a two-letter code (ISO 3166-1)."""
        code = country.strip().upper()
        if not COUNTRY_CODE.match(code):
            raise InvalidInput(
                "shipping country must be a two-letter country code such as US or DE",
                field="shipping.country",
            )
        return cls(
            _address_field(name, "name"),
            _address_field(line1, "line1"),
            _address_field(line2, "line2", required=False),
            _address_field(city, "city"),
            _address_field(postal_code, "postal_code"),
            code,
        )


class PaymentStatus(enum.Enum):
    """Where an order's payment stands; transitions only move forward."""

    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"

    def can_become(self, target: PaymentStatus) -> bool:
        """Whether moving from this status to ``target`` is a forward step."""
        return target in PAYMENT_TRANSITIONS[self]


# The forward-only rule, as data: the statuses each status may move to. Every store's
# compare-and-swap asks this table (through ``can_become`` and ``may_settle``).
# A PENDING order may jump straight to a refunded state (the payment's events can arrive in
# any order, and Stripe may report it already refunded); a FAILED order may only become
# REFUNDED: money that still arrived for it is given back.
PAYMENT_TRANSITIONS: Mapping[PaymentStatus, frozenset[PaymentStatus]] = MappingProxyType(
    {
        PaymentStatus.PENDING: frozenset(
            {
                PaymentStatus.PAID,
                PaymentStatus.FAILED,
                PaymentStatus.PARTIALLY_REFUNDED,
                PaymentStatus.REFUNDED,
            }
        ),
        PaymentStatus.PAID: frozenset(
            {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
        ),
        PaymentStatus.FAILED: frozenset({PaymentStatus.REFUNDED}),
        PaymentStatus.PARTIALLY_REFUNDED: frozenset({PaymentStatus.REFUNDED}),
        PaymentStatus.REFUNDED: frozenset(),
    }
)


def may_settle(
    status: PaymentStatus,
    refunded_cents: int,
    target: PaymentStatus,
    target_refunded_cents: int,
) -> bool:
    """Whether an order in ``status`` with ``refunded_cents`` given back may be settled at
    ``target`` with ``target_refunded_cents``: the refunded amount never shrinks, and the
    status stays or moves forward."""
    return target_refunded_cents >= refunded_cents and (
        target is status or status.can_become(target)
    )


# Which statuses mean the money was taken; their order is the order refunds move through.
CHARGED_STATUSES = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def charged_status(price_cents: int, refunded_cents: int) -> PaymentStatus:
    """The status of a paid order of this price with this much given back."""
    if refunded_cents <= 0:
        return PaymentStatus.PAID
    if refunded_cents < price_cents:
        return PaymentStatus.PARTIALLY_REFUNDED
    return PaymentStatus.REFUNDED


class DisputeStatus(enum.Enum):
    """Where a chargeback on an order's payment stands (Stripe's dispute statuses)."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"

    @property
    def closed(self) -> bool:
        """Whether the dispute is over (a later 'created' or 'updated' cannot reopen it)."""
        return self in (DisputeStatus.WARNING_CLOSED, DisputeStatus.WON, DisputeStatus.LOST)


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
class OrderItem:
    """One line of an order: a photo in one format, how many, at the unit price paid."""

    id: int  # the line's number within its order, from 1
    product_id: int
    description: str
    url: str
    format_id: int | None
    kind: FormatKind
    label: str
    quantity: int
    price: Money  # per piece, as it was when the order was placed

    @property
    def subtotal(self) -> Money:
        """Unit price times quantity."""
        return Money(self.price.cents * self.quantity, self.price.currency)


MAX_QUANTITY = 99
MAX_ORDER_LINES = 50


@dataclass(frozen=True)
class CartLine:
    """What a shopper asks for: a photo, a format (None: its digital download), how many."""

    product_id: int
    format_id: int | None = None
    quantity: int = 1


def order_total(
    items: tuple[OrderItem, ...], shipping_price: Money | None, fallback: Money
) -> Money:
    """What an order costs: its lines and its shipping (``fallback`` for an order without lines)."""
    if not items:
        return fallback
    cents = sum(item.subtotal.cents for item in items)
    if shipping_price is not None:
        cents += shipping_price.cents
    return Money(cents, fallback.currency)


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
    refunded_cents: int = 0
    dispute: DisputeStatus | None = None
    # How often reconciliation looked at this PENDING order without settling it.
    reconcile_attempts: int = field(default=0, compare=False)
    items: tuple[OrderItem, ...] = ()
    shipping: ShippingAddress | None = None
    shipping_price: Money | None = None  # None when nothing is shipped

    @property
    def amount(self) -> Money:
        """The amount charged for this order: its lines plus shipping."""
        return order_total(self.items, self.shipping_price, self.product.price)

    @property
    def total(self) -> Money:
        """The amount charged for this order (the same as ``amount``)."""
        return self.amount

    @property
    def paid_for(self) -> bool:
        """Whether the money for this order was taken and not all given back."""
        return self.status in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)

    @property
    def refundable_cents(self) -> int:
        """What is left to give back of a paid order (0 for one that was never paid)."""
        if self.status not in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED):
            return 0
        return max(0, self.amount.cents - self.refunded_cents)

    def settled_by(self, payment: Payment) -> Order:
        """This order as the gateway's view of its payment says it stands.

        The same answer whatever order the gateway's reports arrive in: the refunded amount
        only grows, a paid order never fails and never becomes PAID again once refunded, and
        a FAILED order stays FAILED until the money that still arrived is all given back.
        """
        if payment.charged:
            refunded = min(self.amount.cents, max(self.refunded_cents, payment.refunded_cents))
            if self.status is PaymentStatus.FAILED:
                if refunded < self.amount.cents:
                    return self
                return replace(self, status=PaymentStatus.REFUNDED, refunded_cents=refunded)
            target = charged_status(self.amount.cents, refunded)
            if self.status in CHARGED_STATUSES and CHARGED_STATUSES.index(
                target
            ) < CHARGED_STATUSES.index(self.status):
                target = self.status
            return replace(self, status=target, refunded_cents=refunded)
        if payment.state is PaymentState.FAILED and self.status is PaymentStatus.PENDING:
            return replace(self, status=PaymentStatus.FAILED)
        return self

    def disputed(self, status: DisputeStatus) -> Order:
        """This order with a chargeback in ``status``; a closed dispute is never reopened."""
        if self.dispute is not None and self.dispute.closed and not status.closed:
            return self
        return replace(self, dispute=status)

    def summary(self) -> OrderSummary:
        """What a shopper's list of orders shows of this order."""
        assert self.id is not None, "only a stored order has a summary"
        return OrderSummary(
            self.id,
            self.user_id,
            self.product,
            self.created_at,
            self.status,
            self.refunded_cents,
            self.items,
            self.shipping,
            self.shipping_price,
        )

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
    refunded_cents: int = 0
    items: tuple[OrderItem, ...] = ()
    shipping: ShippingAddress | None = None
    shipping_price: Money | None = None

    @property
    def total(self) -> Money:
        """The amount charged for this order: its lines plus shipping."""
        return order_total(self.items, self.shipping_price, self.product.price)


@dataclass(frozen=True)
class OrderList:
    """One shopper's orders as their list shows them, oldest first, at one list version.

    The version changes in the same transaction as any change to one of the shopper's
    orders, so whatever is derived from this list stays current while the version does.
    """

    user_id: int
    version: int
    orders: tuple[OrderSummary, ...]


@dataclass(frozen=True)
class ShopperOrder:
    """An order as the owner's list shows it: the whole order and its shopper's email."""

    order: Order
    email: str


@dataclass(frozen=True)
class OrderSearch:
    """What the owner looks for among every shopper's orders, and which page of it.

    ``order_id`` finds one order; ``email_prefix`` the orders of shoppers whose (normalized)
    email starts with it; ``status`` keeps one status. Pages count from 1.
    """

    status: PaymentStatus | None = None
    order_id: int | None = None
    email_prefix: str | None = None
    page: int = 1
    per_page: int = 20

    @property
    def offset(self) -> int:
        """How many matching orders come before this page."""
        return (self.page - 1) * self.per_page
