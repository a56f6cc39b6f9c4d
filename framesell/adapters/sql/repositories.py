"""The storage ports over SQLAlchemy Core: every table of the shop on one connection."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from framesell.adapters.sql.order_lists import bump_for_order, bump_for_user, list_version
from framesell.adapters.sql.tables import (
    catalog_version,
    mail_outbox,
    orders,
    password_resets,
    payment_events,
    product_formats,
    products,
    request_keys,
    users,
)
from framesell.application.ports import Clock
from framesell.domain.errors import EmailTaken
from framesell.domain.mail import Mail, OutboxMessage, PasswordReset
from framesell.domain.models import (
    DisputeStatus,
    Format,
    FormatKind,
    Order,
    OrderItem,
    OrderList,
    OrderSearch,
    OrderSummary,
    PaymentAttempt,
    PaymentStatus,
    Product,
    ProductSnapshot,
    ShippingAddress,
    ShopperOrder,
    User,
    may_settle,
    normalize_email,
)
from framesell.domain.money import Money
from framesell.domain.records import RequestRecord

ConnectionSource = Callable[[], Connection]
# Above every character an email may hold: ``email < prefix + this`` ends a prefix range.
EMAIL_PREFIX_END = "\U0010ffff"

# The statements of the hottest reads, built once: a statement made per call costs its
# construction, coercion and cache-key generation every time.
_USER_BY_ID = users.select().where(users.c.id == sa.bindparam("user_id"))
_ORDERS_OF_USER = (
    orders.select().where(orders.c.user_id == sa.bindparam("user_id")).order_by(orders.c.id)
)
_ORDER_COLUMNS = tuple(orders.c.keys())
_ORDER_BY_ID = orders.select().where(orders.c.id == sa.bindparam("order_id"))
_PRODUCT_BY_ID = products.select().where(products.c.id == sa.bindparam("product_id"))
# The digital download first ("digital" sorts before "print"), then sizes as added.
_FORMAT_ORDER = (product_formats.c.product_id, product_formats.c.kind, product_formats.c.id)
_FORMATS_OF_PRODUCT = (
    product_formats.select()
    .where(product_formats.c.product_id == sa.bindparam("product_id"))
    .order_by(*_FORMAT_ORDER)
)
_USER_BY_EMAIL = users.select().where(users.c.email == sa.bindparam("email"))
# The statements of buying, built once too: an INSERT or UPDATE executed with a dict of
# parameters takes its VALUES or SET columns from the dict's keys.
_INSERT_ORDER = orders.insert()
_INSERT_REQUEST_KEY = request_keys.insert()
_UPDATE_REQUEST_KEY = request_keys.update().where(
    request_keys.c.user_id == sa.bindparam("match_user_id"),
    request_keys.c.idempotency_key == sa.bindparam("match_key"),
)
_TRANSITION = orders.update().where(
    orders.c.id == sa.bindparam("order_id"), orders.c.status == sa.bindparam("expected")
)
# With a payment id: only the attempt's own payment (or none yet) may settle the order,
# and only an order with a recorded attempt has a place for the payment id.
_TRANSITION_OF_PAYMENT = _TRANSITION.where(
    sa.or_(orders.c.payment_id.is_(None), orders.c.payment_id == sa.bindparam("payment"))
).values(
    payment_id=sa.case(
        (orders.c.attempt_number.is_(None), orders.c.payment_id),
        else_=sa.func.coalesce(orders.c.payment_id, sa.bindparam("payment")),
    )
)
_SETTLE = orders.update().where(
    orders.c.id == sa.bindparam("order_id"),
    orders.c.status == sa.bindparam("expected"),
    orders.c.refunded_cents == sa.bindparam("expected_refunded"),
)
_SETTLE_OF_PAYMENT = _SETTLE.where(
    sa.or_(orders.c.payment_id.is_(None), orders.c.payment_id == sa.bindparam("payment"))
).values(
    payment_id=sa.case(
        (orders.c.attempt_number.is_(None), orders.c.payment_id),
        else_=sa.func.coalesce(orders.c.payment_id, sa.bindparam("payment")),
    )
)
# The account's list version and its orders in one round trip: one row per order, or one
# row with NULL order columns for an account without orders; none for an unknown account.
# Read in one statement, so the version is never newer than the orders beside it. Only the
# columns a summary shows: PyMySQL parses every column's description and value in Python,
# so on MySQL the listing's cost follows the column count. Not sorted by the database: an
# ORDER BY on the joined table costs MariaDB a temporary table and a filesort, while the
# few rows of one shopper are sorted by id in Python for nothing.
_ACCOUNT_WITH_ORDERS = (
    sa.select(
        users.c.order_list_version,
        orders.c.id,
        orders.c.product_id,
        orders.c.product_description,
        orders.c.product_url,
        orders.c.product_price_cents,
        orders.c.product_currency,
        orders.c.created_at,
        orders.c.status,
        orders.c.refunded_cents,
        orders.c.line_items,
        orders.c.shipping,
        orders.c.shipping_cents,
    )
    .select_from(users.outerjoin(orders, orders.c.user_id == users.c.id))
    .where(users.c.id == sa.bindparam("user_id"))
)


def _user(row: RowMapping | dict[str, Any]) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        password_hash=row["password_hash"],
        is_admin=bool(row["is_admin"]),
    )


def _product(row: RowMapping, formats: Iterable[Format] = ()) -> Product:
    return Product(
        id=row["id"],
        description=row["description"],
        url=row["url"],
        price=Money(row["price_cents"], row["currency"]),
        active=bool(row["active"]),
        formats=tuple(formats),
        file_url=row["file_url"],
    )


def _format(row: RowMapping) -> Format:
    return Format(
        id=row["id"],
        kind=FormatKind(row["kind"]),
        label=row["label"],
        price=Money(row["price_cents"], row["currency"]),
    )


def _items_text(items: tuple[OrderItem, ...]) -> str | None:
    if not items:
        return None
    return json.dumps(
        [
            {
                "id": item.id,
                "product": item.product_id,
                "description": item.description,
                "url": item.url,
                "format": item.format_id,
                "kind": item.kind.value,
                "label": item.label,
                "quantity": item.quantity,
                "price_cents": item.price.cents,
                "currency": item.price.currency,
            }
            for item in items
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _items(text: str | None) -> tuple[OrderItem, ...]:
    if not text:
        return ()
    return tuple(
        OrderItem(
            id=entry["id"],
            product_id=entry["product"],
            description=entry["description"],
            url=entry["url"],
            format_id=entry["format"],
            kind=FormatKind(entry["kind"]),
            label=entry["label"],
            quantity=entry["quantity"],
            price=Money(entry["price_cents"], entry["currency"]),
        )
        for entry in json.loads(text)
    )


def _shipping_text(shipping: ShippingAddress | None) -> str | None:
    if shipping is None:
        return None
    return json.dumps(
        {
            "name": shipping.name,
            "line1": shipping.line1,
            "line2": shipping.line2,
            "city": shipping.city,
            "postal_code": shipping.postal_code,
            "country": shipping.country,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _shipping(text: str | None) -> ShippingAddress | None:
    if not text:
        return None
    return ShippingAddress(**json.loads(text))


def _shipping_price(cents: int | None, currency: str) -> Money | None:
    return None if cents is None else Money(cents, currency)


def _order(row: RowMapping | dict[str, Any]) -> Order:
    attempt = None
    if row["attempt_number"] is not None:
        attempt = PaymentAttempt(
            number=row["attempt_number"],
            idempotency_key=row["attempt_idempotency_key"],
            payment_id=row["payment_id"],
            payment_token=row["attempt_payment_token"],
        )
    return Order(
        id=row["id"],
        user_id=row["user_id"],
        product=ProductSnapshot(
            product_id=row["product_id"],
            description=row["product_description"],
            url=row["product_url"],
            price=Money(row["product_price_cents"], row["product_currency"]),
        ),
        created_at=row["created_at"],
        status=PaymentStatus(row["status"]),
        reference=row["reference"],
        attempt=attempt,
        updated_at=row["updated_at"],
        refunded_cents=row["refunded_cents"],
        dispute=DisputeStatus(row["dispute_status"]) if row["dispute_status"] else None,
        reconcile_attempts=row["reconcile_attempts"],
        items=_items(row["line_items"]),
        shipping=_shipping(row["shipping"]),
        shipping_price=_shipping_price(row["shipping_cents"], row["product_currency"]),
    )


def _summary_id(summary: OrderSummary) -> int:
    return summary.id


def _request_record(row: RowMapping) -> RequestRecord:
    return RequestRecord(
        user_id=row["user_id"],
        key=row["idempotency_key"],
        fingerprint=row["fingerprint"],
        created_at=row["created_at"],
        locked_at=row["locked_at"],
        order_id=row["order_id"],
        response_status=row["response_status"],
        response_body=row["response_body"],
    )


def _attempt_values(attempt: PaymentAttempt | None) -> dict[str, Any]:
    return {
        "attempt_number": attempt.number if attempt else None,
        "attempt_idempotency_key": attempt.idempotency_key if attempt else None,
        "payment_id": attempt.payment_id if attempt else None,
        "attempt_payment_token": attempt.payment_token if attempt else None,
    }


class SqlUserRepository:
    """UserRepository over the ``users`` table; the email is stored normalized."""

    def __init__(self, connection: ConnectionSource, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    def add(self, user: User) -> User:
        """Store a new user; EmailTaken when the unique email index refuses it."""
        email = normalize_email(user.email)
        connection = self._connection()
        try:
            result = connection.execute(
                users.insert().values(
                    email=email,
                    first_name=user.first_name,
                    last_name=user.last_name,
                    password_hash=user.password_hash,
                    is_admin=user.is_admin,
                    created_at=self._clock.now(),
                )
            )
        except IntegrityError:
            # MySQL and SQLite undo only the failed statement, so the transaction lives on
            # and can tell a duplicate email from any other integrity problem.
            if self.get_by_email(email) is not None:
                raise EmailTaken() from None
            raise
        (user_id,) = result.inserted_primary_key or (None,)
        return User(
            id=user_id,
            email=email,
            first_name=user.first_name,
            last_name=user.last_name,
            password_hash=user.password_hash,
            is_admin=user.is_admin,
        )

    def get(self, user_id: int) -> User | None:
        """Return the user with this id, or None."""
        row = self._connection().execute(_USER_BY_ID, {"user_id": user_id}).first()
        return _user(row._mapping) if row else None

    def get_by_email(self, email: str) -> User | None:
        """Return the user with this email (compared normalized), or None."""
        found = self._connection().execute(_USER_BY_EMAIL, {"email": normalize_email(email)})
        row = found.first()
        return _user(row._mapping) if row else None

    def update_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace a user's password hash."""
        self._connection().execute(
            users.update().where(users.c.id == user_id).values(password_hash=password_hash)
        )

    def set_admin(self, user_id: int, is_admin: bool) -> None:
        """Grant or revoke admin rights."""
        self._connection().execute(
            users.update().where(users.c.id == user_id).values(is_admin=is_admin)
        )


class SqlProductRepository:
    """ProductRepository over the ``products`` table."""

    def __init__(self, connection: ConnectionSource, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    def list_active(self) -> list[Product]:
        """Return every product on sale with its formats, ordered by id (two SELECTs)."""
        query = products.select().where(products.c.active == sa.true()).order_by(products.c.id)
        rows = list(self._connection().execute(query).mappings())
        formats = self._formats_of(product_formats.c.product_id.in_([r["id"] for r in rows]))
        return [_product(row, formats.get(row["id"], ())) for row in rows]

    def get(self, product_id: int) -> Product | None:
        """Return the product with this id and its formats, on sale or not, or None."""
        row = self._connection().execute(_PRODUCT_BY_ID, {"product_id": product_id}).first()
        if row is None:
            return None
        found = self._connection().execute(_FORMATS_OF_PRODUCT, {"product_id": product_id})
        return _product(row._mapping, [_format(format_row) for format_row in found.mappings()])

    def add(self, product: Product) -> Product:
        """Store a new product and its formats (a digital one if it has none)."""
        now = self._clock.now()
        result = self._connection().execute(
            products.insert().values(
                description=product.description,
                url=product.url,
                price_cents=product.price.cents,
                currency=product.price.currency,
                active=product.active,
                created_at=now,
                updated_at=now,
                file_url=product.file_url,
            )
        )
        (product_id,) = result.inserted_primary_key or (None,)
        assert product_id is not None
        stored = [
            self._insert_format(product_id, f)
            for f in (product.formats or (Format.digital(product.price),))
        ]
        self._bump_version()
        return Product(
            product_id,
            product.description,
            product.url,
            product.price,
            product.active,
            tuple(stored),
            product.file_url,
        )

    def update(self, product: Product) -> None:
        """Replace a stored product's fields and its digital price; an unknown id changes
        nothing."""
        if product.id is None:
            return
        connection = self._connection()
        connection.execute(
            products.update()
            .where(products.c.id == product.id)
            .values(
                description=product.description,
                url=product.url,
                price_cents=product.price.cents,
                currency=product.price.currency,
                active=product.active,
                updated_at=self._clock.now(),
                file_url=product.file_url,
            )
        )
        connection.execute(
            product_formats.update()
            .where(
                product_formats.c.product_id == product.id,
                product_formats.c.kind == FormatKind.DIGITAL.value,
            )
            .values(price_cents=product.price.cents, currency=product.price.currency)
        )
        self._bump_version()

    def add_format(self, product_id: int, format: Format) -> Format:
        """Store one more format of a product."""
        stored = self._insert_format(product_id, format)
        self._bump_version()
        return stored

    def update_format(self, product_id: int, format: Format) -> None:
        """Replace a stored format's label and price."""
        self._connection().execute(
            product_formats.update()
            .where(product_formats.c.id == format.id, product_formats.c.product_id == product_id)
            .values(
                label=format.label, price_cents=format.price.cents, currency=format.price.currency
            )
        )
        self._bump_version()

    def remove_format(self, product_id: int, format_id: int) -> None:
        """Delete a format (orders keep their own JSON copy of it)."""
        self._connection().execute(
            product_formats.delete().where(
                product_formats.c.id == format_id, product_formats.c.product_id == product_id
            )
        )
        self._bump_version()

    def _insert_format(self, product_id: int, format: Format) -> Format:
        result = self._connection().execute(
            product_formats.insert().values(
                product_id=product_id,
                kind=format.kind.value,
                label=format.label,
                price_cents=format.price.cents,
                currency=format.price.currency,
            )
        )
        (format_id,) = result.inserted_primary_key or (None,)
        return Format(format_id, format.kind, format.label, format.price)

    def _formats_of(self, condition: sa.ColumnElement[bool]) -> dict[int, list[Format]]:
        query = product_formats.select().where(condition).order_by(*_FORMAT_ORDER)
        found: dict[int, list[Format]] = {}
        for row in self._connection().execute(query).mappings():
            found.setdefault(row["product_id"], []).append(_format(row))
        return found

    def version(self) -> int:
        """The catalog's version: one primary-key read of the ``catalog_version`` row."""
        query = sa.select(catalog_version.c.version).where(catalog_version.c.id == 1)
        row = self._connection().execute(query).first()
        return int(row[0]) if row else 0

    def _bump_version(self) -> None:
        # In the writer's transaction: the new version commits with the change or not at all.
        connection = self._connection()
        result = connection.execute(
            catalog_version.update()
            .where(catalog_version.c.id == 1)
            .values(version=catalog_version.c.version + 1)
        )
        if result.rowcount == 0:  # a schema made without migration 0004's row
            connection.execute(catalog_version.insert().values(id=1, version=1))


class SqlOrderRepository:
    """OrderRepository over the ``orders`` table, which carries the product snapshot."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._connection = connection

    def add(self, order: Order) -> Order:
        """Store a new order and return it with its id (updated_at starts at created_at)."""
        snapshot = order.product
        bump_for_user(self._connection(), order.user_id)
        result = self._connection().execute(
            _INSERT_ORDER,
            {
                "user_id": order.user_id,
                "product_id": snapshot.product_id,
                "product_description": snapshot.description,
                "product_url": snapshot.url,
                "product_price_cents": snapshot.price.cents,
                "product_currency": snapshot.price.currency,
                "created_at": order.created_at,
                "updated_at": order.created_at,
                "status": order.status.value,
                "reference": order.reference,
                "refunded_cents": order.refunded_cents,
                "line_items": _items_text(order.items),
                "shipping": _shipping_text(order.shipping),
                "shipping_cents": order.shipping_price.cents if order.shipping_price else None,
                **_attempt_values(order.attempt),
            },
        )
        (order_id,) = result.inserted_primary_key or (None,)
        return Order(
            id=order_id,
            user_id=order.user_id,
            product=snapshot,
            created_at=order.created_at,
            status=order.status,
            reference=order.reference,
            attempt=order.attempt,
            updated_at=order.created_at,
            refunded_cents=order.refunded_cents,
            items=order.items,
            shipping=order.shipping,
            shipping_price=order.shipping_price,
        )

    def get(self, order_id: int) -> Order | None:
        """Return the order with this id, or None."""
        row = self._connection().execute(_ORDER_BY_ID, {"order_id": order_id}).first()
        return _order(row._mapping) if row else None

    def list_for_user(self, user_id: int) -> list[Order]:
        """Return one shopper's orders, oldest first, in a single SELECT."""
        rows = self._connection().execute(_ORDERS_OF_USER, {"user_id": user_id}).all()
        # Plain dicts: RowMapping's per-key lookup costs more than building the dict.
        return [_order(dict(zip(_ORDER_COLUMNS, row, strict=True))) for row in rows]

    def list_for_account(self, user_id: int) -> list[OrderSummary] | None:
        """The account's order summaries, oldest first, in one SELECT (a LEFT JOIN)."""
        found = self.order_list(user_id)
        return None if found is None else list(found.orders)

    def list_version(self, user_id: int) -> int | None:
        """The account's order list version: one primary-key read of ``users``."""
        return list_version(self._connection(), user_id)

    def order_list(self, user_id: int) -> OrderList | None:
        """The account's list version and order summaries, oldest first, in one SELECT."""
        rows = self._connection().execute(_ACCOUNT_WITH_ORDERS, {"user_id": user_id}).all()
        if not rows:
            return None
        listed = [
            OrderSummary(
                id=order_id,
                user_id=user_id,
                product=ProductSnapshot(product_id, description, url, Money(cents, currency)),
                created_at=created_at,
                status=PaymentStatus(status),
                refunded_cents=refunded,
                items=_items(items),
                shipping=_shipping(shipping),
                shipping_price=_shipping_price(shipping_cents, currency),
            )
            for (
                _, order_id, product_id, description, url, cents, currency, created_at, status,
                refunded, items, shipping, shipping_cents,
            ) in rows
            if order_id is not None  # NULL when the account has no orders
        ]
        listed.sort(key=_summary_id)  # oldest first (ids grow), whatever order rows came in
        return OrderList(user_id, int(rows[0][0]), tuple(listed))

    def search(self, search: OrderSearch) -> tuple[list[ShopperOrder], int]:
        """One page of every shopper's matching orders, newest first: a COUNT and a SELECT.

        Each filter has its index: the primary key for an order id, ``users.email`` (a
        range, so a prefix) then ``orders(user_id, id)`` for an email, ``orders(status,
        id)`` for a status, which also gives the newest-first order without a sort.
        """
        conditions: list[Any] = []
        joined = orders.join(users, users.c.id == orders.c.user_id)
        if search.status is not None:
            conditions.append(orders.c.status == search.status.value)
        if search.order_id is not None:
            conditions.append(orders.c.id == search.order_id)
        if search.email_prefix is not None:
            conditions += [
                users.c.email >= search.email_prefix,
                users.c.email < search.email_prefix + EMAIL_PREFIX_END,
            ]
        connection = self._connection()
        counted = sa.select(sa.func.count()).select_from(joined).where(*conditions)
        total = int(connection.execute(counted).scalar_one())
        if total <= search.offset:
            return [], total
        query = (
            sa.select(orders, users.c.email.label("shopper_email"))
            .select_from(joined)
            .where(*conditions)
            .order_by(orders.c.id.desc())
            .limit(search.per_page)
            .offset(search.offset)
        )
        rows = connection.execute(query).mappings().all()
        return [ShopperOrder(_order(row), row["shopper_email"]) for row in rows], total

    def record_attempt(self, order_id: int, attempt: PaymentAttempt) -> None:
        """Remember the order's current payment attempt, replacing the previous one."""
        self._connection().execute(
            orders.update().where(orders.c.id == order_id).values(**_attempt_values(attempt))
        )

    def transition(
        self,
        order_id: int,
        expected: PaymentStatus,
        target: PaymentStatus,
        *,
        payment_id: str | None,
        at: datetime,
    ) -> bool:
        """Compare-and-swap the status in one UPDATE, guarded by the attempt's payment id."""
        if not expected.can_become(target):
            return False
        values: dict[str, Any] = {
            "order_id": order_id,
            "expected": expected.value,
            "status": target.value,
            "updated_at": at,
        }
        if payment_id is None:
            result = self._connection().execute(_TRANSITION, values)
        else:
            result = self._connection().execute(
                _TRANSITION_OF_PAYMENT, {**values, "payment": payment_id}
            )
        return self._bumped(order_id, result.rowcount == 1)

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
        """Compare-and-swap status and refunded amount in one UPDATE, guarded by payment id."""
        if not may_settle(expected, expected_refunded_cents, target, refunded_cents):
            return False
        values: dict[str, Any] = {
            "order_id": order_id,
            "expected": expected.value,
            "expected_refunded": expected_refunded_cents,
            "status": target.value,
            "refunded_cents": refunded_cents,
            "updated_at": at,
        }
        if payment_id is None:
            result = self._connection().execute(_SETTLE, values)
        else:
            result = self._connection().execute(
                _SETTLE_OF_PAYMENT, {**values, "payment": payment_id}
            )
        return self._bumped(order_id, result.rowcount == 1)

    def record_dispute(self, order_id: int, dispute: DisputeStatus, *, at: datetime) -> None:
        """Remember where a chargeback on the order's payment stands."""
        self._connection().execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(dispute_status=dispute.value, updated_at=at)
        )
        bump_for_order(self._connection(), order_id)

    def _bumped(self, order_id: int, changed: bool) -> bool:
        """Bump the shopper's list version if the order changed; return ``changed``."""
        if changed:
            bump_for_order(self._connection(), order_id)
        return changed

    def find_by_payment_id(self, payment_id: str) -> Order | None:
        """Return the order whose current attempt is this payment, or None."""
        query = (
            orders.select()
            .where(orders.c.payment_id == payment_id, orders.c.attempt_number.is_not(None))
            .order_by(orders.c.id)
            .limit(1)
        )
        row = self._connection().execute(query).first()
        return _order(row._mapping) if row else None

    def list_pending_since(
        self, before: datetime, limit: int, *, now: datetime | None = None
    ) -> list[Order]:
        """Up to ``limit`` PENDING orders created before ``before``: fewest tries, oldest first.

        With ``now``, orders postponed or leased beyond it are left out, so orders that
        cannot be settled yet never fill a batch ahead of the others.
        """
        conditions = [
            orders.c.status == PaymentStatus.PENDING.value,
            orders.c.created_at < before,
        ]
        if now is not None:
            conditions.append(sa.or_(orders.c.lease_until.is_(None), orders.c.lease_until <= now))
        query = (
            orders.select()
            .where(*conditions)
            .order_by(orders.c.reconcile_attempts, orders.c.created_at, orders.c.id)
            .limit(limit)
        )
        return [_order(row) for row in self._connection().execute(query).mappings()]


class SqlRequestKeyRepository:
    """RequestKeyRepository over the ``request_keys`` table; its unique index does the locking."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._connection = connection

    def add(self, record: RequestRecord) -> bool:
        """Store a new key; False when the unique (user, key) index refuses it."""
        connection = self._connection()
        try:
            connection.execute(
                _INSERT_REQUEST_KEY,
                {
                    "user_id": record.user_id,
                    "idempotency_key": record.key,
                    "fingerprint": record.fingerprint,
                    "created_at": record.created_at,
                    "locked_at": record.locked_at,
                    "order_id": record.order_id,
                    "response_status": record.response_status,
                    "response_body": record.response_body,
                },
            )
        except IntegrityError:
            # A duplicate key undoes only the failed INSERT on MySQL and SQLite, so the
            # transaction stays usable. No SAVEPOINT: pysqlite would commit at its RELEASE
            # when it opened the transaction. Any other violation (an unknown user) is raised.
            if self.get(record.user_id, record.key) is not None:
                return False
            raise
        return True

    def get(self, user_id: int, key: str) -> RequestRecord | None:
        """Return the record of this user's key, or None."""
        query = request_keys.select().where(*self._match(user_id, key))
        row = self._connection().execute(query).first()
        return _request_record(row._mapping) if row else None

    def take_over(self, user_id: int, key: str, *, stale_before: datetime, now: datetime) -> bool:
        """Lock an unanswered key whose lock is free or stale, in one compare-and-swap UPDATE."""
        result = self._connection().execute(
            request_keys.update()
            .where(
                *self._match(user_id, key),
                request_keys.c.response_status.is_(None),
                sa.or_(
                    request_keys.c.locked_at.is_(None),
                    request_keys.c.locked_at < stale_before,
                ),
            )
            .values(locked_at=now)
        )
        return result.rowcount == 1

    def attach_order(self, user_id: int, key: str, order_id: int) -> None:
        """Link the order the keyed request created."""
        self._update(user_id, key, order_id=order_id)

    def answer(self, user_id: int, key: str, status: int, body: str) -> None:
        """Store the final response for replay and free the lock."""
        self._update(user_id, key, response_status=status, response_body=body, locked_at=None)

    def release(self, user_id: int, key: str) -> None:
        """Free the lock without an answer."""
        self._update(user_id, key, locked_at=None)

    def purge(self, created_before: datetime) -> int:
        """Delete keys created before the cutoff; return how many."""
        result = self._connection().execute(
            request_keys.delete().where(request_keys.c.created_at < created_before)
        )
        return result.rowcount

    @staticmethod
    def _match(user_id: int, key: str) -> tuple[sa.ColumnElement[bool], ...]:
        return (request_keys.c.user_id == user_id, request_keys.c.idempotency_key == key)

    def _update(self, user_id: int, key: str, **values: Any) -> None:
        self._connection().execute(
            _UPDATE_REQUEST_KEY, {"match_user_id": user_id, "match_key": key, **values}
        )


class SqlPaymentEventRepository:
    """PaymentEventRepository over the ``payment_events`` table and its unique event id."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._connection = connection

    def add(self, event_id: str, event_type: str, received_at: datetime) -> bool:
        """Record an event id; False when the unique index says it was recorded before."""
        connection = self._connection()
        try:
            connection.execute(
                payment_events.insert().values(
                    event_id=event_id, event_type=event_type, received_at=received_at
                )
            )
        except IntegrityError:
            # As in SqlRequestKeyRepository.add: only the INSERT is undone.
            query = sa.select(payment_events.c.id).where(payment_events.c.event_id == event_id)
            if connection.execute(query).first() is not None:
                return False
            raise
        return True

    def contains(self, event_id: str) -> bool:
        """Whether this event id was recorded."""
        query = sa.select(payment_events.c.id).where(payment_events.c.event_id == event_id)
        return self._connection().execute(query).first() is not None


class SqlReconciliationLeases:
    """ReconciliationLeases as the ``orders.lease_until`` column, taken by compare-and-swap."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._connection = connection

    def lease(self, order_id: int, *, until: datetime, now: datetime) -> bool:
        """Take the order's lease if free or expired, in one UPDATE; True if taken."""
        result = self._connection().execute(
            orders.update()
            .where(
                orders.c.id == order_id,
                sa.or_(orders.c.lease_until.is_(None), orders.c.lease_until <= now),
            )
            .values(lease_until=until)
        )
        return result.rowcount == 1

    def postpone(self, order_id: int, *, until: datetime) -> None:
        """Count one more unsettled try and keep the order's lease until ``until``."""
        self._connection().execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(lease_until=until, reconcile_attempts=orders.c.reconcile_attempts + 1)
        )


def _outbox_message(row: RowMapping) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        key=row["mail_key"],
        mail=Mail(row["recipient"], row["subject"], row["text_body"], row["html_body"]),
        created_at=row["created_at"],
        tries=row["tries"],
        next_try_at=row["next_try_at"],
        sent_at=row["sent_at"],
    )


class SqlOutbox:
    """OutboxRepository over ``mail_outbox``; its unique key keeps each mail once."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._connection = connection

    def add(self, message: OutboxMessage) -> bool:
        """Store a new message due at once; False when its key exists."""
        connection = self._connection()
        values = {
            "mail_key": message.key,
            "recipient": message.mail.to,
            "subject": message.mail.subject,
            "text_body": message.mail.text,
            "html_body": message.mail.html,
            "created_at": message.created_at,
            "tries": 0,
            "next_try_at": message.created_at,
        }
        try:
            connection.execute(mail_outbox.insert(), values)
        except IntegrityError:
            # As in SqlRequestKeyRepository.add: only the INSERT is undone, no SAVEPOINT.
            found = connection.execute(
                sa.select(mail_outbox.c.id).where(mail_outbox.c.mail_key == message.key)
            ).first()
            if found is not None:
                return False
            raise
        return True

    def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Unsent messages due at ``now``, the longest waiting first."""
        query = (
            mail_outbox.select()
            .where(mail_outbox.c.sent_at.is_(None), mail_outbox.c.next_try_at <= now)
            .order_by(mail_outbox.c.next_try_at, mail_outbox.c.id)
            .limit(limit)
        )
        return [_outbox_message(row) for row in self._connection().execute(query).mappings()]

    def claim(self, message_id: int, *, until: datetime, now: datetime) -> bool:
        """Take an unsent, due message until ``until``, in one compare-and-swap UPDATE."""
        result = self._connection().execute(
            mail_outbox.update()
            .where(
                mail_outbox.c.id == message_id,
                mail_outbox.c.sent_at.is_(None),
                mail_outbox.c.next_try_at <= now,
            )
            .values(next_try_at=until)
        )
        return result.rowcount == 1

    def mark_sent(self, message_id: int, at: datetime) -> None:
        """Record the delivery."""
        self._connection().execute(
            mail_outbox.update().where(mail_outbox.c.id == message_id).values(sent_at=at)
        )

    def retry_later(self, message_id: int, *, at: datetime) -> None:
        """Count a failed try; due again at ``at``."""
        self._connection().execute(
            mail_outbox.update()
            .where(mail_outbox.c.id == message_id)
            .values(tries=mail_outbox.c.tries + 1, next_try_at=at)
        )


class SqlPasswordResets:
    """PasswordResetRepository over ``password_resets`` (token hashes only)."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._connection = connection

    def add(self, reset: PasswordReset) -> PasswordReset:
        """Store a new token hash and return it with its id."""
        result = self._connection().execute(
            password_resets.insert().values(
                user_id=reset.user_id,
                token_hash=reset.token_hash,
                created_at=reset.created_at,
                expires_at=reset.expires_at,
                used_at=reset.used_at,
            )
        )
        (reset_id,) = result.inserted_primary_key or (None,)
        return PasswordReset(
            reset_id, reset.user_id, reset.token_hash, reset.created_at, reset.expires_at
        )

    def get_by_hash(self, token_hash: str) -> PasswordReset | None:
        """The reset with this token hash, or None."""
        row = (
            self._connection()
            .execute(password_resets.select().where(password_resets.c.token_hash == token_hash))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return PasswordReset(
            row["id"], row["user_id"], row["token_hash"], row["created_at"], row["expires_at"],
            row["used_at"],
        )

    def use(self, reset_id: int, at: datetime) -> bool:
        """Mark the token used, once (compare-and-swap on ``used_at IS NULL``)."""
        result = self._connection().execute(
            password_resets.update()
            .where(password_resets.c.id == reset_id, password_resets.c.used_at.is_(None))
            .values(used_at=at)
        )
        return result.rowcount == 1
