"""The database schema as SQLAlchemy Core tables; migrations/versions must produce exactly this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

# Stable constraint names on every backend, so later migrations can refer to them by name.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# InnoDB and real 4-byte UTF-8 on MySQL/MariaDB; the other dialects ignore these keywords.
MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def exact_text(length: int) -> sa.String:
    """A VARCHAR compared byte for byte (utf8mb4_bin on MySQL) for keys, ids and emails.

    MySQL's default collations ignore case, accents and trailing blanks, which would make
    ``josé@x.com`` collide with ``jose@x.com`` in a unique index, or match a payment id
    that differs only in case.
    """
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
    )


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, stored naive in UTC with microseconds (DATETIME(6))."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Use DATETIME(6) on MySQL, whose plain DATETIME drops the microseconds."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC; a naive one is a bug, not a guess."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store a naive datetime: {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark the stored naive UTC value as UTC again."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", exact_text(254), nullable=False),
    sa.Column("first_name", sa.String(150), nullable=False),
    sa.Column("last_name", sa.String(150), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # Added by 0009: grows in the same transaction as every change to one of the user's
    # orders, so a process can tell with one primary-key read whether the list it keeps
    # encoded is still the stored one.
    sa.Column("order_list_version", sa.BigInteger, nullable=False, server_default="0"),
    sa.Index(None, "email", unique=True),
    **MYSQL_TABLE_OPTIONS,
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("description", sa.String(500), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("price_cents", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Added by 0008: the full-resolution file a digital purchase delivers (never public).
    sa.Column("file_url", sa.String(2048), nullable=True),
    **MYSQL_TABLE_OPTIONS,
)

# Added by 0008: how each photo is sold, its digital download (one per product, its price
# kept equal to products.price_cents) and its print sizes.
product_formats = sa.Table(
    "product_formats",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("price_cents", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.CheckConstraint("kind IN ('digital', 'print')", name="kind_is_known"),
    sa.Index(None, "product_id", "kind"),
    **MYSQL_TABLE_OPTIONS,
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id"), nullable=False),
    # The snapshot of what was bought, so a later catalog change never rewrites history.
    sa.Column("product_description", sa.String(500), nullable=False),
    sa.Column("product_url", sa.String(2048), nullable=False),
    sa.Column("product_price_cents", sa.Integer, nullable=False),
    sa.Column("product_currency", sa.String(3), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reference", exact_text(64), nullable=False),
    # The current payment attempt; all NULL until the first attempt is recorded.
    sa.Column("attempt_number", sa.Integer, nullable=True),
    sa.Column("attempt_idempotency_key", exact_text(255), nullable=True),
    sa.Column("payment_id", exact_text(255), nullable=True),
    # Added by 0002 (so last in the table): the token a retry of the attempt charges again,
    # and until when one reconcile worker owns this PENDING order.
    sa.Column("attempt_payment_token", exact_text(255), nullable=True),
    sa.Column("lease_until", UtcDateTime, nullable=True),
    # Added by 0006: the cents given back so far (partial refunds add up), where a chargeback
    # stands, and how often reconcile tried this PENDING order (its backoff).
    sa.Column("refunded_cents", sa.Integer, nullable=False, server_default="0"),
    sa.Column("dispute_status", sa.String(32), nullable=True),
    sa.Column("reconcile_attempts", sa.Integer, nullable=False, server_default="0"),
    # Added by 0008: the order's lines as a JSON snapshot (what was bought, in which format,
    # how many, at which unit price), where prints go (JSON, NULL without prints) and the
    # flat shipping price charged (NULL without prints).
    sa.Column(
        "line_items", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"), nullable=True
    ),
    sa.Column("shipping", sa.Text, nullable=True),
    sa.Column("shipping_cents", sa.Integer, nullable=True),
    sa.CheckConstraint(
        "status IN ('PENDING', 'PAID', 'FAILED', 'PARTIALLY_REFUNDED', 'REFUNDED')",
        name="status_is_known",
    ),
    sa.Index(None, "reference", unique=True),
    sa.Index(None, "user_id", "id"),
    sa.Index(None, "product_id"),
    sa.Index(None, "status", "created_at"),
    sa.Index(None, "payment_id"),
    # Added by 0007: the owner's list of one status, newest first.
    sa.Index(None, "status", "id"),
    **MYSQL_TABLE_OPTIONS,
)

request_keys = sa.Table(
    "request_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("idempotency_key", exact_text(255), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # Set while a process works on the request; a lock older than a threshold is stale.
    sa.Column("locked_at", UtcDateTime, nullable=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=True),
    # The final response, replayed for a repeat of the request.
    sa.Column("response_status", sa.Integer, nullable=True),
    sa.Column(
        "response_body",
        sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"),
        nullable=True,
    ),
    # The unique index is what makes a key single-use across every app process.
    sa.Index(None, "user_id", "idempotency_key", unique=True),
    sa.Index(None, "created_at"),
    # Declared so that InnoDB does not add an index of its own for the foreign key.
    sa.Index(None, "order_id"),
    **MYSQL_TABLE_OPTIONS,
)

payment_events = sa.Table(
    "payment_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", exact_text(255), nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
    # The unique index is what applies each gateway event once, however often it arrives.
    sa.Index(None, "event_id", unique=True),
    **MYSQL_TABLE_OPTIONS,
)

# One row (id 1) whose version grows in the same transaction as every product write, so
# every process can tell cheaply whether the catalog it cached is still the stored one.
catalog_version = sa.Table(
    "catalog_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

throttle_events = sa.Table(
    "throttle_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # An opaque digest such as "declined-shopper:…" or "signup-address:…".
    sa.Column("throttle_key", exact_text(64), nullable=False),
    sa.Column("happened_at", UtcDateTime, nullable=False),
    sa.Index(None, "throttle_key", "happened_at"),
    sa.Index(None, "happened_at"),
    **MYSQL_TABLE_OPTIONS,
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # An opaque digest of "email:…" or "address:…", never the email or address itself.
    sa.Column("throttle_key", exact_text(64), nullable=False),
    sa.Column("failed_at", UtcDateTime, nullable=False),
    sa.Index(None, "throttle_key", "failed_at"),
    # For forgetting old failures of every key in one range delete.
    sa.Index(None, "failed_at"),
    **MYSQL_TABLE_OPTIONS,
)

# Added by 0007: mails written in the transaction of what they tell (an order becoming PAID,
# a refund), kept until delivered; the unique key makes each one exist once.
mail_outbox = sa.Table(
    "mail_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("mail_key", exact_text(191), nullable=False),
    sa.Column("recipient", exact_text(254), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("text_body", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"),
              nullable=False),
    sa.Column("html_body", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"),
              nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
    # When a sender may take the message next (a claim moves it on, a failure backs off).
    sa.Column("next_try_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Index(None, "mail_key", unique=True),
    sa.Index(None, "sent_at", "next_try_at"),
    **MYSQL_TABLE_OPTIONS,
)

# Added by 0007: password-reset tokens, as SHA-256 hashes only.
password_resets = sa.Table(
    "password_resets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("token_hash", exact_text(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime, nullable=True),
    sa.Index(None, "token_hash", unique=True),
    sa.Index(None, "user_id"),
    **MYSQL_TABLE_OPTIONS,
)
