"""The roles the use cases need filled, as typing.Protocol; adapters/ implements them."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from framesell.domain.mail import Mail, OutboxMessage, PasswordReset
from framesell.domain.models import (
    DisputeStatus,
    Format,
    Order,
    OrderList,
    OrderSearch,
    OrderSummary,
    PaymentAttempt,
    PaymentStatus,
    Product,
    ShopperOrder,
    User,
)
from framesell.domain.money import Money
from framesell.domain.payments import Payment
from framesell.domain.records import PaymentEvent, RequestRecord


class UserRepository(Protocol):
    """Stores accounts; emails are unique case-insensitively."""

    def add(self, user: User) -> User:
        """Store a new user and return it with its id; raise EmailTaken on a duplicate email."""

    def get(self, user_id: int) -> User | None:
        """Return the user with this id, or None."""

    def get_by_email(self, email: str) -> User | None:
        """Return the user with this (normalized) email, or None."""

    def update_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace a user's password hash (after a rehash with newer parameters)."""

    def set_admin(self, user_id: int, is_admin: bool) -> None:
        """Grant or revoke admin rights."""


class ProductRepository(Protocol):
    """Stores the catalog."""

    def list_active(self) -> list[Product]:
        """Return every product on sale, ordered by id."""

    def get(self, product_id: int) -> Product | None:
        """Return the product with this id, on sale or not, or None."""

    def add(self, product: Product) -> Product:
        """Store a new product and return it with its id."""

    def update(self, product: Product) -> None:
        """Replace a stored product's fields (description, url, price, active, file_url)
        and its digital format's price; print formats change only through the calls below."""

    def add_format(self, product_id: int, format: Format) -> Format:
        """Store one more format of a product and return it with its id."""

    def update_format(self, product_id: int, format: Format) -> None:
        """Replace a stored format's label and price."""

    def remove_format(self, product_id: int, format_id: int) -> None:
        """Stop selling a product in this format (orders keep their own copy of it)."""

    def version(self) -> int:
        """A number that changes, in the writer's transaction, with every add and update.

        Shared by every process on the same store, and cheap to read, so a process can keep
        the catalog in memory and ask only this whether its copy is still current.
        """


class OrderRepository(Protocol):
    """Stores orders with a snapshot of what was bought and the state of its payment."""

    def add(self, order: Order) -> Order:
        """Store a new order and return it with its id."""

    def get(self, order_id: int) -> Order | None:
        """Return the order with this id, or None."""

    def list_for_user(self, user_id: int) -> list[Order]:
        """Return one shopper's orders, oldest first, in a constant number of queries."""

    def list_for_account(self, user_id: int) -> list[OrderSummary] | None:
        """The account's orders as its list shows them, oldest first, in one query.

        None if there is no such account (an empty list if it has no orders).
        """

    def order_list(self, user_id: int) -> OrderList | None:
        """The account's order list with its version, read together in one query.

        None if there is no such account.
        """

    def list_version(self, user_id: int) -> int | None:
        """The version of the account's order list: one primary-key read; None if no account.

        It changes in the same transaction as every ``add``, ``transition``, ``settle`` and
        ``record_dispute`` of one of the account's orders, in every process on the store,
        so a copy of the list made at one version is current exactly while it is unchanged.
        (``record_attempt`` and the reconcile leases touch nothing the list shows.)
        """

    def search(self, search: OrderSearch) -> tuple[list[ShopperOrder], int]:
        """One page of every shopper's orders matching ``search``, newest (highest id)
        first, with how many match in all; two queries whatever the page holds."""

    def record_attempt(self, order_id: int, attempt: PaymentAttempt) -> None:
        """Remember the payment attempt about to be made (its number and idempotency key)."""

    def transition(
        self,
        order_id: int,
        expected: PaymentStatus,
        target: PaymentStatus,
        *,
        payment_id: str | None,
        at: datetime,
    ) -> bool:
        """Compare-and-swap the status; True only if the order was in ``expected``.

        With ``payment_id`` the swap also requires that the order's current attempt has
        that payment id or none yet (which it then stores): a stale attempt changes nothing.
        """

    def settle(
        self,
        order_id: int,
        *,
        expected: PaymentStatus,
        expected_refunded_cents: int,
        target: PaymentStatus,
        refunded_cents: int,
        payment_id: str | None,
        at: datetime,
    ) -> bool:
        """Compare-and-swap status and refunded amount together; True only if the order was
        in ``expected`` with ``expected_refunded_cents`` and the move is forward.

        ``payment_id`` guards the swap as in ``transition``.
        """

    def record_dispute(self, order_id: int, dispute: DisputeStatus, *, at: datetime) -> None:
        """Remember where a chargeback on the order's payment stands."""

    def find_by_payment_id(self, payment_id: str) -> Order | None:
        """Return the order whose current attempt is this payment, or None."""

    def list_pending_since(
        self, before: datetime, limit: int, *, now: datetime | None = None
    ) -> list[Order]:
        """Up to ``limit`` PENDING orders created before ``before``, fewest reconcile tries
        first, then oldest first; with ``now``, not those postponed (or leased) past it."""


class UnitOfWork(Protocol):
    """One database transaction: rolls back on exit unless ``commit`` was called.

    Its exit raises WriteConflict when another transaction wrote the same rows first;
    use cases that write run it through ``application.transactions.retrying``.
    """

    # Read-only members, so that an adapter's own repository classes satisfy them
    # (a plain annotated attribute is invariant and no concrete unit of work would fit).
    @property
    def users(self) -> UserRepository:
        """The accounts, within this transaction."""

    @property
    def products(self) -> ProductRepository:
        """The catalog, within this transaction."""

    @property
    def orders(self) -> OrderRepository:
        """The orders, within this transaction."""

    @property
    def request_keys(self) -> RequestKeyRepository:
        """Clients' Idempotency-Keys, within this transaction."""

    @property
    def payment_events(self) -> PaymentEventRepository:
        """The gateway events already applied, within this transaction."""

    @property
    def leases(self) -> ReconciliationLeases:
        """Reconcile workers' claims on PENDING orders, within this transaction."""

    @property
    def outbox(self) -> OutboxRepository:
        """Mails waiting to be delivered, within this transaction."""

    @property
    def password_resets(self) -> PasswordResetRepository:
        """Password-reset tokens (their hashes), within this transaction."""

    def __enter__(self) -> UnitOfWork:
        """Begin the transaction."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed and release the connection."""

    def commit(self) -> None:
        """Make the work so far durable."""

    def rollback(self) -> None:
        """Discard the work since the last commit."""


UnitOfWorkFactory = Callable[[], UnitOfWork]


class PaymentGateway(Protocol):
    """Takes money from shoppers. Adapters: adapters.stripe, adapters.fake_payments."""

    def charge(
        self,
        amount: Money,
        payment_token: str,
        *,
        order_id: int,
        idempotency_key: str,
        order_reference: str | None = None,
    ) -> Payment:
        """Create and confirm a payment at most once per key.

        Returns the payment (SUCCEEDED, REQUIRES_ACTION or PROCESSING); raises
        PaymentDeclined when the card is refused or the shopper's payment details cannot be
        used (a spent token, an unusable PaymentMethod), PaymentUnavailable when the outcome
        is unknown (network, timeout, 5xx, 429), PaymentMisconfigured for our own errors.
        ``order_reference`` is stored with the payment (``metadata.order_reference``).
        """

    def retrieve(self, payment_id: str) -> Payment:
        """Return the gateway's current view of a payment, refunds included."""

    def refund(
        self, payment_id: str, *, amount: Money | None = None, idempotency_key: str
    ) -> Payment:
        """Refund ``amount`` (all that is left when None) at most once per key; return the
        payment as it then stands."""

    def find_for_order(
        self, order_id: int, *, created_from: datetime, created_until: datetime
    ) -> list[Payment]:
        """Every payment created in the window whose metadata names this order."""

    def cancel(self, payment_id: str, *, idempotency_key: str) -> Payment:
        """Cancel a payment that never completed; returns it as it stands.

        A payment that succeeded meanwhile cannot be canceled and comes back SUCCEEDED.
        """


@dataclass(frozen=True)
class TokenClaims:
    """What a verified access token says about its bearer."""

    user_id: int
    email: str
    issued_at: datetime
    expires_at: datetime
    # When the password was checked (the JWT's auth_time); refreshing keeps it.
    auth_time: datetime | None = None

    @property
    def authenticated_at(self) -> datetime:
        """When the bearer last gave the password (``iat`` for tokens without auth_time)."""
        return self.auth_time or self.issued_at


class TokenService(Protocol):
    """Issues and verifies access tokens."""

    def issue(self, user: User, *, auth_time: datetime | None = None) -> str:
        """Return a signed token for this user; ``auth_time`` defaults to now (a log-in)."""

    def verify(self, token: str) -> TokenClaims:
        """Return the token's claims; raise NotAuthenticated with the reason if it is not valid."""


class PasswordHasher(Protocol):
    """Turns passwords into slow salted hashes and checks them."""

    def hash(self, password: str) -> str:
        """Return a new salted hash of the password."""

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches the hash; never raises for a mismatch."""

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with weaker parameters than today's."""


class Clock(Protocol):
    """Tells the time (UTC, timezone-aware), so tests can stop it."""

    def now(self) -> datetime:
        """Return the current time in UTC."""


class ProductCatalog(Protocol):
    """What the order service needs of the catalog service."""

    def product_for_sale(self, product_id: int) -> Product:
        """Return the product if it is on sale; raise ProductNotFound otherwise."""


class PaymentOutcome(enum.Enum):
    """How an attempt to take money ended, as the order service needs to know it."""

    PAID = "paid"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"
    PENDING = "pending"  # accepted by the gateway, settled later (webhook or reconcile)
    UNAVAILABLE = "unavailable"  # outcome unknown: the order must stay PENDING
    REFUNDED = "refunded"


@dataclass(frozen=True)
class PaymentResult:
    """The payment service's answer: an outcome, never an exception for a card or network.

    ``payment`` is the gateway's whole view of the payment when it gave one, which is what
    orders are settled from.
    """

    outcome: PaymentOutcome
    payment_id: str | None = None
    message: str | None = None
    client_secret: str | None = None
    payment: Payment | None = None


class Payments(Protocol):
    """What the order service needs of the payment service."""

    def pay(
        self,
        amount: Money,
        payment_token: str,
        *,
        order_id: int,
        idempotency_key: str,
        order_reference: str | None = None,
    ) -> PaymentResult:
        """Take the amount at most once per key and say how it went."""

    def status(self, payment_id: str) -> PaymentResult:
        """Ask the gateway how an earlier payment stands."""

    def refund(
        self, payment_id: str, *, amount: Money | None = None, idempotency_key: str
    ) -> PaymentResult:
        """Give (part of) the money of a succeeded payment back, at most once per key."""

    def find_for_order(
        self, order_id: int, *, created_from: datetime, created_until: datetime
    ) -> list[Payment] | None:
        """The gateway's payments for this order in the window; None when it cannot say."""

    def cancel(self, payment_id: str, *, idempotency_key: str) -> PaymentResult:
        """Cancel a payment that never completed (PAID if it succeeded after all)."""


class RequestKeyRepository(Protocol):
    """Stores clients' Idempotency-Keys; unique per user and key across every app process."""

    def add(self, record: RequestRecord) -> bool:
        """Store a new key; False (and nothing written) if this user already used the key."""

    def get(self, user_id: int, key: str) -> RequestRecord | None:
        """Return the record of this user's key, or None."""

    def take_over(self, user_id: int, key: str, *, stale_before: datetime, now: datetime) -> bool:
        """Lock an unanswered key whose lock is free or older than ``stale_before``; CAS."""

    def attach_order(self, user_id: int, key: str, order_id: int) -> None:
        """Link the order the keyed request created."""

    def answer(self, user_id: int, key: str, status: int, body: str) -> None:
        """Store the final response for replay and free the lock."""

    def release(self, user_id: int, key: str) -> None:
        """Free the lock without an answer, so a retry with the key may resume the request."""

    def purge(self, created_before: datetime) -> int:
        """Delete keys created before the cutoff; return how many."""


class PaymentEventRepository(Protocol):
    """Remembers which gateway events were applied, each exactly once."""

    def add(self, event_id: str, event_type: str, received_at: datetime) -> bool:
        """Record an event id; False (and nothing written) if it was recorded before."""

    def contains(self, event_id: str) -> bool:
        """Whether this event id was recorded."""


class ReconciliationLeases(Protocol):
    """Lets one reconcile worker at a time own a PENDING order, across machines."""

    def lease(self, order_id: int, *, until: datetime, now: datetime) -> bool:
        """Take the order's lease if free or expired (compare-and-swap); True if taken."""

    def postpone(self, order_id: int, *, until: datetime) -> None:
        """Count one more reconcile try that could not settle the order, and leave it
        alone until ``until`` (its lease is kept until then)."""


class PaymentEventParser(Protocol):
    """Turns a signed webhook body into a PaymentEvent. Adapters: adapters.stripe_webhooks."""

    def parse(self, payload: bytes, signature: str) -> PaymentEvent:
        """Verify the signature (raise InvalidPaymentEvent) and read the event."""


class OrderListVersions(Protocol):
    """Each shopper's order list version read on its own, outside any unit of work.

    The same value as ``OrderRepository.list_version``; a separate port because it is read
    for every order list served, and one statement needs no transaction around it.
    """

    def version_of(self, user_id: int) -> int | None:
        """The account's order list version (one primary-key read), or None if no such
        account. StorageUnavailable when the store cannot be reached."""
        ...


class LoginThrottle(Protocol):
    """Remembers failed logins per key (an email, a client address) for every app process.

    Keys are opaque strings of at most 64 characters. Adapters: adapters.memory,
    adapters.sql.throttle. Each call is its own short transaction, outside any unit of work.
    """

    def failures(self, keys: tuple[str, ...], *, since: datetime) -> dict[str, list[datetime]]:
        """Return each key's failure times after ``since``, oldest first (every key present)."""

    def record_failure(
        self, keys: tuple[str, ...], at: datetime, *, forget_before: datetime
    ) -> None:
        """Remember one failure at ``at`` for each key; forget any key's older than the cutoff."""

    def reset(self, key: str) -> None:
        """Forget every failure of one key (after a successful login)."""

    def claim(
        self,
        keys: tuple[str, ...],
        at: datetime,
        *,
        forget_before: datetime,
        wait: Callable[[dict[str, list[datetime]]], int],
    ) -> ThrottleClaim:
        """Count an attempt as a failure of every key before its password is checked.

        Atomically for these keys (no other claim of them in between): ``wait`` is given
        each key's failures after ``forget_before`` (claims still being checked elsewhere
        included); if it answers more than 0 nothing is recorded and the claim carries that
        wait, else one failure per key is recorded at ``at``. So parallel guesses get no
        more tries than serial ones.
        """

    def release(self, claim: ThrottleClaim, *, forget: str | None = None) -> None:
        """Forget the failures a claim recorded (the password was right after all), and
        with ``forget`` every failure of that key too, as ``reset`` would, in the same
        transaction."""


class EventCounter(Protocol):
    """Remembers when things happened per key (declined payments, sign-ups), for every process.

    Keys are opaque strings of at most 64 characters. Adapters: adapters.memory,
    adapters.sql.throttle. Each call is its own short transaction, outside any unit of work.
    """

    def events(self, keys: tuple[str, ...], *, since: datetime) -> dict[str, list[datetime]]:
        """Return each key's event times after ``since``, oldest first (every key present)."""

    def record(self, keys: tuple[str, ...], at: datetime, *, forget_before: datetime) -> None:
        """Remember one event at ``at`` for each key; forget any key's older than the cutoff."""


@dataclass(frozen=True)
class ThrottleClaim:
    """An attempt counted in advance: refused (``retry_after_seconds`` > 0) or recorded."""

    retry_after_seconds: int
    # The adapter's handles of the failures it recorded, for release.
    recorded: tuple[int, ...] = ()


class OutboxRepository(Protocol):
    """Keeps mails until they are delivered; each key at most once."""

    def add(self, message: OutboxMessage) -> bool:
        """Store a new message, due now; False (nothing written) if its key exists."""

    def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Up to ``limit`` unsent messages due at ``now``, the longest waiting first."""

    def claim(self, message_id: int, *, until: datetime, now: datetime) -> bool:
        """Take an unsent, due message for one sender until ``until`` (compare-and-swap)."""

    def mark_sent(self, message_id: int, at: datetime) -> None:
        """Record that the message was handed to the mail server."""

    def retry_later(self, message_id: int, *, at: datetime) -> None:
        """Count one failed try and leave the message alone until ``at``."""


class PasswordResetRepository(Protocol):
    """Stores password-reset tokens as hashes."""

    def add(self, reset: PasswordReset) -> PasswordReset:
        """Store a new token hash and return it with its id."""

    def get_by_hash(self, token_hash: str) -> PasswordReset | None:
        """The reset with this token hash, or None."""

    def use(self, reset_id: int, at: datetime) -> bool:
        """Mark the token used; True only the first time (compare-and-swap)."""


class Mailer(Protocol):
    """Hands mails to a mail server. Adapters: adapters.smtp, adapters.memory."""

    def send(self, mail: Mail) -> None:
        """Deliver one mail (text and HTML parts); raise MailUnavailable if it cannot now."""
