"""In-memory adapters for storage, tokens, hashing and a fixed clock; for tests and demos."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType

from framesell.application.ports import Clock, ThrottleClaim, TokenClaims
from framesell.domain.errors import EmailTaken, MailUnavailable, NotAuthenticated
from framesell.domain.mail import Mail, OutboxMessage, PasswordReset
from framesell.domain.models import (
    DisputeStatus,
    Format,
    FormatKind,
    Order,
    OrderList,
    OrderSearch,
    OrderSummary,
    PaymentAttempt,
    PaymentStatus,
    Product,
    ShopperOrder,
    User,
    may_settle,
    normalize_email,
)
from framesell.domain.records import RequestRecord


@dataclass
class _Tables:
    users: dict[int, User] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    request_keys: dict[tuple[int, str], RequestRecord] = field(default_factory=dict)
    payment_events: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    leases: dict[int, datetime] = field(default_factory=dict)
    catalog_version: int = 0
    outbox: dict[int, OutboxMessage] = field(default_factory=dict)
    password_resets: dict[int, PasswordReset] = field(default_factory=dict)
    # Per user id: the order list version, bumped with every change to one of their orders.
    order_list_versions: dict[int, int] = field(default_factory=dict)

    def copy(self) -> _Tables:
        # Entities are frozen, so copying the dicts is a full snapshot.
        return _Tables(
            dict(self.users),
            dict(self.products),
            dict(self.orders),
            dict(self.request_keys),
            dict(self.payment_events),
            dict(self.leases),
            self.catalog_version,
            dict(self.outbox),
            dict(self.password_resets),
            dict(self.order_list_versions),
        )


class MemoryStore:
    """The data behind every MemoryUnitOfWork of one app: one process, lost at exit."""

    def __init__(self) -> None:
        self.tables = _Tables()
        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self.open_transactions = 0  # lets tests prove no transaction spans a payment call

    def next_id(self) -> int:
        """Return a fresh id (shared by every table, which is fine for tests)."""
        return next(self.ids)


class MemoryUserRepository:
    """UserRepository over a MemoryStore."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def add(self, user: User) -> User:
        """Store a new user; EmailTaken on a duplicate email."""
        if self.get_by_email(user.email) is not None:
            raise EmailTaken()
        stored = replace(user, id=self._store.next_id(), email=normalize_email(user.email))
        self._store.tables.users[stored.id or 0] = stored
        return stored

    def get(self, user_id: int) -> User | None:
        """Return the user with this id, or None."""
        return self._store.tables.users.get(user_id)

    def get_by_email(self, email: str) -> User | None:
        """Return the user with this email, or None."""
        wanted = normalize_email(email)
        return next((u for u in self._store.tables.users.values() if u.email == wanted), None)

    def update_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace a user's password hash."""
        users = self._store.tables.users
        if user_id in users:
            users[user_id] = replace(users[user_id], password_hash=password_hash)

    def set_admin(self, user_id: int, is_admin: bool) -> None:
        """Grant or revoke admin rights."""
        users = self._store.tables.users
        if user_id in users:
            users[user_id] = replace(users[user_id], is_admin=is_admin)


class MemoryProductRepository:
    """ProductRepository over a MemoryStore."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def list_active(self) -> list[Product]:
        """Return every product on sale, ordered by id."""
        products = self._store.tables.products
        return [products[i] for i in sorted(products) if products[i].active]

    def get(self, product_id: int) -> Product | None:
        """Return the product with this id, or None."""
        return self._store.tables.products.get(product_id)

    def add(self, product: Product) -> Product:
        """Store a new product and its formats with fresh ids (a digital one if it has none)."""
        formats = product.formats or (Format.digital(product.price),)
        stored = replace(
            product,
            id=self._store.next_id(),
            formats=tuple(replace(f, id=self._store.next_id()) for f in formats),
        )
        self._store.tables.products[stored.id or 0] = stored
        self._store.tables.catalog_version += 1
        return stored

    def update(self, product: Product) -> None:
        """Replace a stored product's fields and its digital price; print formats stay."""
        current = self._store.tables.products.get(product.id or 0)
        if current is not None:
            formats = tuple(
                replace(f, price=product.price) if f.kind is FormatKind.DIGITAL else f
                for f in current.formats
            )
            self._store.tables.products[current.id or 0] = replace(product, formats=formats)
            self._store.tables.catalog_version += 1

    def add_format(self, product_id: int, format: Format) -> Format:
        """Store one more format of a product with a fresh id."""
        stored = replace(format, id=self._store.next_id())
        self._replace_formats(product_id, lambda formats: (*formats, stored))
        return stored

    def update_format(self, product_id: int, format: Format) -> None:
        """Replace a stored format's label and price."""
        self._replace_formats(
            product_id,
            lambda formats: tuple(
                replace(f, label=format.label, price=format.price) if f.id == format.id else f
                for f in formats
            ),
        )

    def remove_format(self, product_id: int, format_id: int) -> None:
        """Drop a format of a product."""
        self._replace_formats(
            product_id, lambda formats: tuple(f for f in formats if f.id != format_id)
        )

    def _replace_formats(
        self, product_id: int, change: Callable[[tuple[Format, ...]], tuple[Format, ...]]
    ) -> None:
        current = self._store.tables.products.get(product_id)
        if current is not None:
            self._store.tables.products[product_id] = replace(
                current, formats=change(current.formats)
            )
            self._store.tables.catalog_version += 1

    def version(self) -> int:
        """The catalog's version, bumped by every add and update."""
        return self._store.tables.catalog_version


class MemoryOrderRepository:
    """OrderRepository over a MemoryStore."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def add(self, order: Order) -> Order:
        """Store a new order with a fresh id."""
        stored = replace(order, id=self._store.next_id(), updated_at=order.created_at)
        self._store.tables.orders[stored.id or 0] = stored
        self._bump(stored)
        return stored

    def _bump(self, order: Order) -> None:
        versions = self._store.tables.order_list_versions
        versions[order.user_id] = versions.get(order.user_id, 0) + 1

    def get(self, order_id: int) -> Order | None:
        """Return the order with this id, or None."""
        return self._store.tables.orders.get(order_id)

    def list_for_user(self, user_id: int) -> list[Order]:
        """Return one shopper's orders, oldest first."""
        orders = self._store.tables.orders
        return [orders[i] for i in sorted(orders) if orders[i].user_id == user_id]

    def list_for_account(self, user_id: int) -> list[OrderSummary] | None:
        """The account's orders as its list shows them, oldest first; None if no account."""
        if user_id not in self._store.tables.users:
            return None
        return [order.summary() for order in self.list_for_user(user_id)]

    def order_list(self, user_id: int) -> OrderList | None:
        """The account's list version and order summaries, oldest first; None if no account."""
        version = self.list_version(user_id)
        if version is None:
            return None
        orders = tuple(order.summary() for order in self.list_for_user(user_id))
        return OrderList(user_id, version, orders)

    def list_version(self, user_id: int) -> int | None:
        """The account's order list version, or None if there is no such account."""
        if user_id not in self._store.tables.users:
            return None
        return self._store.tables.order_list_versions.get(user_id, 0)

    def search(self, search: OrderSearch) -> tuple[list[ShopperOrder], int]:
        """One page of every shopper's matching orders, newest first, and the match count."""
        users = self._store.tables.users
        found = []
        for order_id in sorted(self._store.tables.orders, reverse=True):
            order = self._store.tables.orders[order_id]
            user = users.get(order.user_id)
            email = user.email if user else ""
            if search.status is not None and order.status is not search.status:
                continue
            if search.order_id is not None and order_id != search.order_id:
                continue
            if search.email_prefix is not None and not email.startswith(search.email_prefix):
                continue
            found.append(ShopperOrder(order, email))
        return found[search.offset : search.offset + search.per_page], len(found)

    def record_attempt(self, order_id: int, attempt: PaymentAttempt) -> None:
        """Remember the order's current payment attempt."""
        orders = self._store.tables.orders
        if order_id in orders:
            orders[order_id] = replace(orders[order_id], attempt=attempt)

    def transition(
        self,
        order_id: int,
        expected: PaymentStatus,
        target: PaymentStatus,
        *,
        payment_id: str | None,
        at: datetime,
    ) -> bool:
        """Compare-and-swap the status, guarded by the current attempt's payment id."""
        order = self._store.tables.orders.get(order_id)
        if order is None or order.status is not expected or not expected.can_become(target):
            return False
        attempt = order.attempt
        if payment_id is not None and attempt is not None:
            if attempt.payment_id not in (None, payment_id):
                return False
            attempt = replace(attempt, payment_id=payment_id)
        self._store.tables.orders[order_id] = replace(
            order, status=target, attempt=attempt, updated_at=at
        )
        self._bump(order)
        return True

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
        """Compare-and-swap status and refunded amount, guarded like ``transition``."""
        order = self._store.tables.orders.get(order_id)
        if order is None or (order.status, order.refunded_cents) != (
            expected,
            expected_refunded_cents,
        ):
            return False
        if not may_settle(expected, expected_refunded_cents, target, refunded_cents):
            return False
        attempt = order.attempt
        if payment_id is not None and attempt is not None:
            if attempt.payment_id not in (None, payment_id):
                return False
            attempt = replace(attempt, payment_id=payment_id)
        self._store.tables.orders[order_id] = replace(
            order, status=target, refunded_cents=refunded_cents, attempt=attempt, updated_at=at
        )
        self._bump(order)
        return True

    def record_dispute(self, order_id: int, dispute: DisputeStatus, *, at: datetime) -> None:
        """Remember where a chargeback on the order's payment stands."""
        orders = self._store.tables.orders
        if order_id in orders:
            orders[order_id] = replace(orders[order_id], dispute=dispute, updated_at=at)
            self._bump(orders[order_id])

    def find_by_payment_id(self, payment_id: str) -> Order | None:
        """Return the order whose current attempt is this payment, or None."""
        return next(
            (
                o
                for o in self._store.tables.orders.values()
                if o.attempt is not None and o.attempt.payment_id == payment_id
            ),
            None,
        )

    def list_pending_since(
        self, before: datetime, limit: int, *, now: datetime | None = None
    ) -> list[Order]:
        """Up to ``limit`` PENDING orders created before ``before``: fewest tries, oldest first."""
        leases = self._store.tables.leases
        orders = sorted(
            self._store.tables.orders.values(),
            key=lambda o: (o.reconcile_attempts, o.created_at, o.id or 0),
        )
        pending = [
            o
            for o in orders
            if o.status is PaymentStatus.PENDING
            and o.created_at < before
            and (now is None or o.id not in leases or leases[o.id] <= now)
        ]
        return pending[:limit]


class MemoryRequestKeyRepository:
    """RequestKeyRepository over a MemoryStore."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def add(self, record: RequestRecord) -> bool:
        """Store a new key; False if this user already used it."""
        keys = self._store.tables.request_keys
        if (record.user_id, record.key) in keys:
            return False
        keys[(record.user_id, record.key)] = record
        return True

    def get(self, user_id: int, key: str) -> RequestRecord | None:
        """Return the record of this user's key, or None."""
        return self._store.tables.request_keys.get((user_id, key))

    def take_over(self, user_id: int, key: str, *, stale_before: datetime, now: datetime) -> bool:
        """Lock an unanswered key whose lock is free or stale."""
        record = self.get(user_id, key)
        if record is None or record.answered:
            return False
        if record.locked_at is not None and record.locked_at >= stale_before:
            return False
        self._put(replace(record, locked_at=now))
        return True

    def attach_order(self, user_id: int, key: str, order_id: int) -> None:
        """Link the order the keyed request created."""
        record = self.get(user_id, key)
        if record is not None:
            self._put(replace(record, order_id=order_id))

    def answer(self, user_id: int, key: str, status: int, body: str) -> None:
        """Store the final response and free the lock."""
        record = self.get(user_id, key)
        if record is not None:
            self._put(
                replace(record, locked_at=None, response_status=status, response_body=body)
            )

    def release(self, user_id: int, key: str) -> None:
        """Free the lock without an answer."""
        record = self.get(user_id, key)
        if record is not None:
            self._put(replace(record, locked_at=None))

    def purge(self, created_before: datetime) -> int:
        """Delete keys created before the cutoff."""
        keys = self._store.tables.request_keys
        old = [k for k, record in keys.items() if record.created_at < created_before]
        for k in old:
            del keys[k]
        return len(old)

    def _put(self, record: RequestRecord) -> None:
        self._store.tables.request_keys[(record.user_id, record.key)] = record


class MemoryPaymentEventRepository:
    """PaymentEventRepository over a MemoryStore."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def add(self, event_id: str, event_type: str, received_at: datetime) -> bool:
        """Record an event id once; False if seen before."""
        events = self._store.tables.payment_events
        if event_id in events:
            return False
        events[event_id] = (event_type, received_at)
        return True

    def contains(self, event_id: str) -> bool:
        """Whether this event id was recorded."""
        return event_id in self._store.tables.payment_events


class MemoryReconciliationLeases:
    """ReconciliationLeases over a MemoryStore."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def lease(self, order_id: int, *, until: datetime, now: datetime) -> bool:
        """Take the order's lease if free or expired."""
        if order_id not in self._store.tables.orders:
            return False
        current = self._store.tables.leases.get(order_id)
        if current is not None and current > now:
            return False
        self._store.tables.leases[order_id] = until
        return True

    def postpone(self, order_id: int, *, until: datetime) -> None:
        """Count one more unsettled try and keep the order's lease until ``until``."""
        orders = self._store.tables.orders
        if order_id in orders:
            order = orders[order_id]
            orders[order_id] = replace(order, reconcile_attempts=order.reconcile_attempts + 1)
            self._store.tables.leases[order_id] = until


class MemoryOutbox:
    """OutboxRepository over a MemoryStore."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def add(self, message: OutboxMessage) -> bool:
        """Store a new message due at once; False if its key exists."""
        if any(m.key == message.key for m in self._store.tables.outbox.values()):
            return False
        stored = replace(message, id=self._store.next_id(), next_try_at=message.created_at)
        self._store.tables.outbox[stored.id or 0] = stored
        return True

    def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Unsent messages due at ``now``, the longest waiting first."""
        waiting = [
            m for m in self._store.tables.outbox.values()
            if m.sent_at is None and m.next_try_at is not None and m.next_try_at <= now
        ]
        waiting.sort(key=lambda m: (m.next_try_at or now, m.id or 0))
        return waiting[:limit]

    def claim(self, message_id: int, *, until: datetime, now: datetime) -> bool:
        """Take an unsent, due message until ``until``."""
        message = self._store.tables.outbox.get(message_id)
        if message is None or message.sent_at is not None:
            return False
        if message.next_try_at is not None and message.next_try_at > now:
            return False
        self._store.tables.outbox[message_id] = replace(message, next_try_at=until)
        return True

    def mark_sent(self, message_id: int, at: datetime) -> None:
        """Record the delivery."""
        message = self._store.tables.outbox[message_id]
        self._store.tables.outbox[message_id] = replace(message, sent_at=at)

    def retry_later(self, message_id: int, *, at: datetime) -> None:
        """Count a failed try; due again at ``at``."""
        message = self._store.tables.outbox[message_id]
        self._store.tables.outbox[message_id] = replace(
            message, tries=message.tries + 1, next_try_at=at
        )


class MemoryPasswordResets:
    """PasswordResetRepository over a MemoryStore."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def add(self, reset: PasswordReset) -> PasswordReset:
        """Store a new token hash with a fresh id."""
        stored = replace(reset, id=self._store.next_id())
        self._store.tables.password_resets[stored.id or 0] = stored
        return stored

    def get_by_hash(self, token_hash: str) -> PasswordReset | None:
        """The reset with this token hash, or None."""
        return next(
            (r for r in self._store.tables.password_resets.values() if r.token_hash == token_hash),
            None,
        )

    def use(self, reset_id: int, at: datetime) -> bool:
        """Mark the token used, once."""
        reset = self._store.tables.password_resets.get(reset_id)
        if reset is None or reset.used_at is not None:
            return False
        self._store.tables.password_resets[reset_id] = replace(reset, used_at=at)
        return True


class MemoryMailer:
    """A Mailer that keeps every mail in ``sent``; ``fail_next`` refuses that many sends."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self.fail_next = 0
        self._lock = threading.Lock()

    def send(self, mail: Mail) -> None:
        """Keep the mail, or raise MailUnavailable while failures are asked for."""
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                raise MailUnavailable()
            self.sent.append(mail)

    def to(self, address: str) -> list[Mail]:
        """The mails sent to one address, in order."""
        return [mail for mail in self.sent if mail.to == address]


class MemoryUnitOfWork:
    """A UnitOfWork over a MemoryStore: transactions are serialized by one lock."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self.users = MemoryUserRepository(store)
        self.products = MemoryProductRepository(store)
        self.orders = MemoryOrderRepository(store)
        self.request_keys = MemoryRequestKeyRepository(store)
        self.payment_events = MemoryPaymentEventRepository(store)
        self.leases = MemoryReconciliationLeases(store)
        self.outbox = MemoryOutbox(store)
        self.password_resets = MemoryPasswordResets(store)
        self._saved: _Tables | None = None

    def __enter__(self) -> MemoryUnitOfWork:
        self._store.lock.acquire()
        self._store.open_transactions += 1
        self._saved = self._store.tables.copy()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._store.open_transactions -= 1
            self._store.lock.release()

    def commit(self) -> None:
        """Keep the changes made so far."""
        self._saved = self._store.tables.copy()

    def rollback(self) -> None:
        """Restore the data as of the last commit (or the start)."""
        if self._saved is not None:
            self._store.tables = self._saved.copy()


class MemoryUnitOfWorkFactory:
    """Makes a fresh MemoryUnitOfWork per call, all sharing one MemoryStore."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)


class FakePasswordHasher:
    """A fast, salted, NOT slow hasher for tests; never for production."""

    def __init__(self, version: str = "1") -> None:
        self._version = version

    def hash(self, password: str) -> str:
        """Return ``fake$<version>$<salt>$<sha256>``."""
        salt = secrets.token_hex(8)
        digest = hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()
        return f"fake${self._version}${salt}${digest}"

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches; False for any malformed hash."""
        try:
            _, _version, salt, digest = password_hash.split("$")
        except ValueError:
            return False
        candidate = hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()
        return hmac.compare_digest(candidate, digest)

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made by another version of this hasher."""
        return not password_hash.startswith(f"fake${self._version}$")


class MemoryTokenService:
    """Opaque random tokens remembered in memory, with the same lifetime rules as JWTs."""

    def __init__(self, clock: Clock, lifetime: timedelta) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._issued: dict[str, TokenClaims] = {}

    def issue(self, user: User, *, auth_time: datetime | None = None) -> str:
        """Return a new random token for this user."""
        now = self._clock.now()
        token = secrets.token_urlsafe(24)
        self._issued[token] = TokenClaims(
            user.id or 0, user.email, now, now + self._lifetime, auth_time or now
        )
        return token

    def verify(self, token: str) -> TokenClaims:
        """Return the claims of a token this service issued and that has not expired."""
        claims = self._issued.get(token)
        if claims is None:
            raise NotAuthenticated("invalid token")
        if self._clock.now() >= claims.expires_at:
            raise NotAuthenticated("token has expired")
        return claims


class FixedClock:
    """A clock that only moves when told to; for tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2017, 2, 11, 2, 40, 24, 333429, tzinfo=UTC)

    def now(self) -> datetime:
        """Return the clock's current time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self._now += delta


class MemoryEventCounter:
    """EventCounter in one process's memory (shared by its threads, lost at exit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, list[datetime]] = {}

    def events(self, keys: tuple[str, ...], *, since: datetime) -> dict[str, list[datetime]]:
        """Return each key's event times after ``since``, oldest first."""
        with self._lock:
            return {
                key: sorted(at for at in self._events.get(key, ()) if at > since) for key in keys
            }

    def record(self, keys: tuple[str, ...], at: datetime, *, forget_before: datetime) -> None:
        """Remember one event per key and drop every event older than the cutoff."""
        with self._lock:
            for key in keys:
                self._events.setdefault(key, []).append(at)
            for key in list(self._events):
                kept = [when for when in self._events[key] if when >= forget_before]
                if kept:
                    self._events[key] = kept
                else:
                    del self._events[key]


class MemoryLoginThrottle:
    """LoginThrottle in one process's memory (shared by its threads, lost at exit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Per key: (failure time, handle) pairs; the handle lets a claim be released.
        self._failures: dict[str, list[tuple[datetime, int]]] = {}
        self._handles = itertools.count(1)

    def failures(self, keys: tuple[str, ...], *, since: datetime) -> dict[str, list[datetime]]:
        """Return each key's failure times after ``since``, oldest first."""
        with self._lock:
            return self._failures_since(keys, since)

    def _failures_since(self, keys: tuple[str, ...], since: datetime) -> dict[str, list[datetime]]:
        return {
            key: sorted(at for at, _ in self._failures.get(key, ()) if at > since) for key in keys
        }

    def record_failure(
        self, keys: tuple[str, ...], at: datetime, *, forget_before: datetime
    ) -> None:
        """Remember one failure per key and drop every failure older than the cutoff."""
        with self._lock:
            self._record(keys, at, forget_before)

    def _record(self, keys: tuple[str, ...], at: datetime, forget_before: datetime) -> list[int]:
        handles = []
        for key in keys:
            handle = next(self._handles)
            self._failures.setdefault(key, []).append((at, handle))
            handles.append(handle)
        for key in list(self._failures):
            kept = [entry for entry in self._failures[key] if entry[0] >= forget_before]
            if kept:
                self._failures[key] = kept
            else:
                del self._failures[key]
        return handles

    def reset(self, key: str) -> None:
        """Forget one key's failures."""
        with self._lock:
            self._failures.pop(key, None)

    def claim(
        self,
        keys: tuple[str, ...],
        at: datetime,
        *,
        forget_before: datetime,
        wait: Callable[[dict[str, list[datetime]]], int],
    ) -> ThrottleClaim:
        """Under the lock: refuse with ``wait``'s answer, or record one failure per key."""
        with self._lock:
            retry_after = wait(self._failures_since(keys, forget_before))
            if retry_after > 0:
                return ThrottleClaim(retry_after)
            return ThrottleClaim(0, tuple(self._record(keys, at, forget_before)))

    def release(self, claim: ThrottleClaim, *, forget: str | None = None) -> None:
        """Forget the failures the claim recorded, and every failure of ``forget``."""
        handles = set(claim.recorded)
        with self._lock:
            if forget is not None:
                self._failures.pop(forget, None)
            for key in list(self._failures):
                kept = [entry for entry in self._failures[key] if entry[1] not in handles]
                if kept:
                    self._failures[key] = kept
                else:
                    del self._failures[key]
