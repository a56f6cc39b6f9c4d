"""The composition root: reads settings, picks one adapter per port, builds the services.

The only module that knows every layer. Pyramid's ``main``, the ``framesell`` command and
the tests all build the shop through ``bootstrap``.
"""

from __future__ import annotations

import hashlib
import importlib
import ipaddress
import logging
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from framesell.adapters.argon2 import (
    OWASP_MEMORY_COST_KIB,
    OWASP_PARALLELISM,
    OWASP_TIME_COST,
    Argon2PasswordHasher,
)
from framesell.adapters.clock import SystemClock
from framesell.adapters.jwt import MIN_SECRET_BYTES, JwtTokenService
from framesell.adapters.memory import (
    MemoryEventCounter,
    MemoryLoginThrottle,
    MemoryMailer,
    MemoryUnitOfWorkFactory,
)
from framesell.application.catalog import DEFAULT_RECHECK as CATALOG_RECHECK
from framesell.application.catalog import CatalogService
from framesell.application.downloads import DownloadService
from framesell.application.health import HealthService
from framesell.application.mail import MailOutbox, ShopMail
from framesell.application.orders import OrderService, no_fault
from framesell.application.payments import PaymentService
from framesell.application.ports import (
    Clock,
    EventCounter,
    LoginThrottle,
    Mailer,
    PaymentEventParser,
    PaymentGateway,
    PaymentResult,
    UnitOfWorkFactory,
)
from framesell.application.requests import IdempotentRequests, PlaceOrderOnce
from framesell.application.throttles import PaymentFailureLimit, SignupLimit
from framesell.application.users import UserService
from framesell.domain.errors import DomainError
from framesell.domain.models import Order
from framesell.domain.money import Money
from framesell.domain.throttling import RateLimit, ThrottlePolicy

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    """A missing, unknown or unsafe setting: the shop refuses to start."""


# Environment variables that override the ini file, in every environment.
ENVIRONMENT_OVERRIDES = {
    "FRAMESELL_DATABASE_URL": "framesell.database_url",
    "FRAMESELL_JWT_SECRET": "framesell.jwt.secret",
    "FRAMESELL_STRIPE_SECRET_KEY": "framesell.stripe.secret_key",
    "FRAMESELL_STRIPE_PUBLISHABLE_KEY": "framesell.stripe.publishable_key",
    "FRAMESELL_STRIPE_API_BASE": "framesell.stripe.api_base",
    "FRAMESELL_STRIPE_JS_URL": "framesell.stripe.js_url",
    "FRAMESELL_STRIPE_WEBHOOK_SECRET": "framesell.stripe.webhook_secret",
    "FRAMESELL_PAYMENT": "framesell.payment",
    "FRAMESELL_STORAGE": "framesell.storage",
    "FRAMESELL_CORS_ORIGINS": "framesell.cors_origins",
    "FRAMESELL_TRUSTED_PROXIES": "framesell.trusted_proxies",
    "FRAMESELL_MAIL": "framesell.mail",
    "FRAMESELL_MAIL_SENDER": "framesell.mail.sender",
    "FRAMESELL_MAIL_OWNER": "framesell.mail.owner",
    "FRAMESELL_SMTP_HOST": "framesell.smtp.host",
    "FRAMESELL_SMTP_PORT": "framesell.smtp.port",
    "FRAMESELL_SMTP_USERNAME": "framesell.smtp.username",
    "FRAMESELL_SMTP_PASSWORD": "framesell.smtp.password",
    "FRAMESELL_SMTP_STARTTLS": "framesell.smtp.starttls",
    "FRAMESELL_SHOP_URL": "framesell.shop_url",
}


# Secrets written in development.ini for everyone to read: never good enough for production.
PUBLIC_DEVELOPMENT_SECRETS = frozenset(
    {
        "development-only-jwt-secret-not-for-production",
        "whsec_framesell_development_only",
        "sk_test_framesell_development",
    }
)
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _int(raw: Mapping[str, Any], key: str, default: int) -> int:
    value = raw.get(key)
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError:
        raise ConfigurationError(f"{key} must be an integer, got {value!r}") from None


def _shipping_cents(value: Any) -> int:
    """The flat shipping price per order with prints, given in major units ("9.00", "0")."""
    text = str(value).strip()
    if text.replace(".", "", 1).isdigit() and set(text) <= {"0", "."}:
        return 0  # free shipping
    try:
        return Money.from_major(text).cents
    except DomainError:
        raise ConfigurationError(
            f"framesell.shipping.price must be an amount such as 9.00, not {text!r}"
        ) from None


@dataclass(frozen=True)
class Settings:
    """Every setting the shop reads, parsed and checked once at start-up."""

    environment: str = "development"
    storage: str = "sql"
    database_url: str = ""
    auto_migrate: bool = False
    payment: str = "stripe"
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_api_base: str | None = None
    stripe_webhook_secret: str = ""
    stripe_js_url: str = "https://js.stripe.com/v3/"
    stripe_timeout_seconds: float = 10.0
    stripe_max_retries: int = 2
    jwt_secret: str = ""
    jwt_lifetime: timedelta = timedelta(hours=1)
    max_session_age: timedelta = timedelta(days=7)
    argon2_memory_cost_kib: int = OWASP_MEMORY_COST_KIB
    argon2_time_cost: int = OWASP_TIME_COST
    argon2_parallelism: int = OWASP_PARALLELISM
    cors_origins: tuple[str, ...] = ()
    frontend_dir: str = ""
    idempotency_lock_seconds: int = 90
    idempotency_keep_hours: int = 24
    crash_after_charge: bool = False
    trusted_proxies: tuple[str, ...] = ()
    login_max_failures: int = 10
    login_window_seconds: int = 900
    login_max_lockout_seconds: int = 3600
    login_address_max_failures: int = 100
    login_address_window_seconds: int = 900
    payment_failures_per_shopper: int = 5
    payment_failures_per_address: int = 20
    payment_failure_window_seconds: int = 3600
    signups_per_address: int = 20
    signup_window_seconds: int = 3600
    shipping_cents: int = 900
    download_link_seconds: int = 900
    # smtp | memory | off; empty (not set) sends nothing, and production refuses it.
    mail: str = ""
    mail_sender: str = "FrameSell <shop@framesell.invalid>"
    mail_owner: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    # Where shoppers open the shop (links in mails), e.g. https://shop.example.com/
    shop_url: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        """Whether the strict production rules apply."""
        return self.environment == "production"

    @classmethod
    def from_mapping(
        cls, raw_settings: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Parse ini settings with FRAMESELL_* environment overrides, and check them."""
        environ = os.environ if environ is None else environ
        raw = dict(raw_settings)
        for variable, key in ENVIRONMENT_OVERRIDES.items():
            if environ.get(variable, "") != "":
                raw[key] = environ[variable]
        api_base = str(raw.get("framesell.stripe.api_base") or "").strip() or None
        settings = cls(
            environment=str(raw.get("framesell.environment", "development")).strip(),
            storage=str(raw.get("framesell.storage", "sql")).strip(),
            database_url=str(raw.get("framesell.database_url", "")).strip(),
            auto_migrate=_truthy(raw.get("framesell.auto_migrate", "false")),
            payment=str(raw.get("framesell.payment", "stripe")).strip(),
            stripe_secret_key=str(raw.get("framesell.stripe.secret_key", "")).strip(),
            stripe_publishable_key=str(raw.get("framesell.stripe.publishable_key", "")).strip(),
            stripe_api_base=api_base,
            stripe_webhook_secret=str(raw.get("framesell.stripe.webhook_secret", "")).strip(),
            stripe_js_url=str(
                raw.get("framesell.stripe.js_url") or "https://js.stripe.com/v3/"
            ).strip(),
            stripe_timeout_seconds=float(raw.get("framesell.stripe.timeout_seconds") or 10),
            stripe_max_retries=_int(raw, "framesell.stripe.max_retries", 2),
            jwt_secret=str(raw.get("framesell.jwt.secret", "")),
            jwt_lifetime=timedelta(seconds=_int(raw, "framesell.jwt.lifetime_seconds", 3600)),
            max_session_age=timedelta(
                seconds=_int(raw, "framesell.jwt.max_session_age_seconds", 7 * 24 * 3600)
            ),
            argon2_memory_cost_kib=_int(
                raw, "framesell.argon2.memory_cost_kib", OWASP_MEMORY_COST_KIB
            ),
            argon2_time_cost=_int(raw, "framesell.argon2.time_cost", OWASP_TIME_COST),
            argon2_parallelism=_int(raw, "framesell.argon2.parallelism", OWASP_PARALLELISM),
            cors_origins=tuple(str(raw.get("framesell.cors_origins", "")).split()),
            frontend_dir=str(raw.get("framesell.frontend_dir", "")).strip(),
            idempotency_lock_seconds=_int(raw, "framesell.idempotency.lock_seconds", 90),
            idempotency_keep_hours=_int(raw, "framesell.idempotency.keep_hours", 24),
            crash_after_charge=_truthy(raw.get("framesell.testing.crash_after_charge", "false")),
            trusted_proxies=tuple(str(raw.get("framesell.trusted_proxies", "")).split()),
            login_max_failures=_int(raw, "framesell.login.max_failures", 10),
            login_window_seconds=_int(raw, "framesell.login.window_seconds", 900),
            login_max_lockout_seconds=_int(raw, "framesell.login.max_lockout_seconds", 3600),
            login_address_max_failures=_int(raw, "framesell.login.address_max_failures", 100),
            login_address_window_seconds=_int(raw, "framesell.login.address_window_seconds", 900),
            payment_failures_per_shopper=_int(
                raw, "framesell.payments.max_failures_per_shopper", 5
            ),
            payment_failures_per_address=_int(
                raw, "framesell.payments.max_failures_per_address", 20
            ),
            payment_failure_window_seconds=_int(
                raw, "framesell.payments.failure_window_seconds", 3600
            ),
            signups_per_address=_int(raw, "framesell.signup.max_per_address", 20),
            signup_window_seconds=_int(raw, "framesell.signup.window_seconds", 3600),
            shipping_cents=_shipping_cents(raw.get("framesell.shipping.price", "9.00")),
            download_link_seconds=_int(raw, "framesell.downloads.link_seconds", 900),
            mail=str(raw.get("framesell.mail", "")).strip(),
            mail_sender=str(
                raw.get("framesell.mail.sender") or "FrameSell <shop@framesell.invalid>"
            ).strip(),
            mail_owner=str(raw.get("framesell.mail.owner", "")).strip(),
            smtp_host=str(raw.get("framesell.smtp.host", "")).strip(),
            smtp_port=_int(raw, "framesell.smtp.port", 587),
            smtp_username=str(raw.get("framesell.smtp.username", "")).strip(),
            smtp_password=str(raw.get("framesell.smtp.password", "")),
            smtp_starttls=_truthy(raw.get("framesell.smtp.starttls", "true")),
            shop_url=str(raw.get("framesell.shop_url", "")).strip(),
            extra=raw,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ConfigurationError for unknown adapters or unsafe production settings."""
        if self.environment not in {"production", "development", "test"}:
            raise ConfigurationError(f"unknown framesell.environment {self.environment!r}")
        if self.storage not in STORAGE_ADAPTERS:
            raise ConfigurationError(
                f"unknown framesell.storage {self.storage!r}; choose one of "
                + ", ".join(sorted(STORAGE_ADAPTERS))
            )
        if self.payment not in PAYMENT_ADAPTERS and ":" not in self.payment:
            raise ConfigurationError(
                f"unknown framesell.payment {self.payment!r}; choose one of "
                + ", ".join(sorted(PAYMENT_ADAPTERS))
                + " or a module:factory path"
            )
        if self.storage == "sql" and not self.database_url:
            raise ConfigurationError("framesell.database_url (FRAMESELL_DATABASE_URL) is required")
        if not self.jwt_secret:
            raise ConfigurationError("framesell.jwt.secret (FRAMESELL_JWT_SECRET) is required")
        if self.payment == "stripe" and not self.stripe_secret_key:
            raise ConfigurationError(
                "framesell.stripe.secret_key (FRAMESELL_STRIPE_SECRET_KEY) is required"
            )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigurationError(
                    f"framesell.trusted_proxies: {proxy!r} is not an IP address or network"
                ) from None
        self.login_throttle_policy()
        self.address_throttle_policy()
        self.payment_failure_limits()
        self.signup_limit()
        if self.mail not in MAIL_ADAPTERS and self.mail != "":
            raise ConfigurationError(
                f"unknown framesell.mail {self.mail!r}; choose one of "
                + ", ".join(sorted(MAIL_ADAPTERS))
            )
        if self.mail == "smtp" and not self.smtp_host:
            raise ConfigurationError(
                "framesell.mail = smtp needs framesell.smtp.host (FRAMESELL_SMTP_HOST)"
            )
        if self.is_production:
            self._check_production()

    def reset_link(self, token: str) -> str:
        """The frontend's "choose a new password" page for one reset token."""
        return f"{self.shop_url.rstrip('/')}/#/reset-password?token={token}"

    def login_throttle_policy(self) -> ThrottlePolicy:
        """The failed-login limits from framesell.login.*; ConfigurationError if unworkable."""
        try:
            return ThrottlePolicy(
                max_failures=self.login_max_failures,
                window=timedelta(seconds=self.login_window_seconds),
                max_lockout=timedelta(seconds=self.login_max_lockout_seconds),
            )
        except ValueError as error:
            raise ConfigurationError(f"framesell.login.*: {error}") from None

    def address_throttle_policy(self) -> ThrottlePolicy:
        """The failed-login limits per client address (framesell.login.address_*)."""
        window = timedelta(seconds=self.login_address_window_seconds)
        try:
            return ThrottlePolicy(
                max_failures=self.login_address_max_failures,
                window=window,
                max_lockout=max(window, timedelta(seconds=self.login_max_lockout_seconds)),
            )
        except ValueError as error:
            raise ConfigurationError(f"framesell.login.address_*: {error}") from None

    def payment_failure_limits(self) -> tuple[RateLimit, RateLimit]:
        """Declined payments allowed per shopper and per address (framesell.payments.*)."""
        window = timedelta(seconds=self.payment_failure_window_seconds)
        try:
            return (
                RateLimit(self.payment_failures_per_shopper, window),
                RateLimit(self.payment_failures_per_address, window),
            )
        except ValueError as error:
            raise ConfigurationError(f"framesell.payments.*: {error}") from None

    def signup_limit(self) -> RateLimit:
        """New accounts allowed per client address (framesell.signup.*)."""
        try:
            return RateLimit(
                self.signups_per_address, timedelta(seconds=self.signup_window_seconds)
            )
        except ValueError as error:
            raise ConfigurationError(f"framesell.signup.*: {error}") from None

    def _check_production(self) -> None:
        if len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"FRAMESELL_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes in production"
            )
        public = {self.jwt_secret, self.stripe_webhook_secret, self.stripe_secret_key}
        if public & PUBLIC_DEVELOPMENT_SECRETS:
            raise ConfigurationError(
                "production uses a secret published in development.ini; set your own "
                "FRAMESELL_JWT_SECRET, FRAMESELL_STRIPE_SECRET_KEY and "
                "FRAMESELL_STRIPE_WEBHOOK_SECRET"
            )
        if self.stripe_api_base is not None and not _safe_api_base(self.stripe_api_base):
            raise ConfigurationError(
                "framesell.stripe.api_base must be an https:// address in production "
                "(plain http only to this host's loopback)"
            )
        for proxy in self.trusted_proxies:
            if ipaddress.ip_network(proxy, strict=False).prefixlen == 0:
                raise ConfigurationError(
                    f"framesell.trusted_proxies: {proxy} trusts every address, so any client "
                    "could name its own address in X-Forwarded-For"
                )
        if self.storage == "sql" and _sqlite_in_memory(self.database_url):
            raise ConfigurationError(
                "production keeps its data in a database that outlives the process, "
                "not SQLite in memory"
            )
        if self.storage != "sql":
            raise ConfigurationError("production keeps its data in SQL (framesell.storage = sql)")
        if self.payment == "fake":
            raise ConfigurationError("production never takes payments with the fake gateway")
        if self.payment == "stripe" and not self.stripe_webhook_secret:
            raise ConfigurationError("FRAMESELL_STRIPE_WEBHOOK_SECRET is required in production")
        if self.crash_after_charge:
            raise ConfigurationError("framesell.testing.* fault points are for tests only")
        if self.mail not in ("smtp", "off"):
            raise ConfigurationError(
                "production sends mail over SMTP: set FRAMESELL_SMTP_HOST (and"
                " FRAMESELL_SMTP_USERNAME, FRAMESELL_SMTP_PASSWORD, FRAMESELL_MAIL_OWNER), or"
                " turn mail off explicitly with FRAMESELL_MAIL=off"
            )
        if self.mail == "smtp" and not self.shop_url.startswith("https://"):
            raise ConfigurationError(
                "FRAMESELL_SHOP_URL (the https:// address of the shop, for links in mails)"
                " is required in production"
            )
        if self.idempotency_keep_hours < 24:
            raise ConfigurationError("Idempotency-Keys must be kept at least 24 hours")
        if self.argon2_memory_cost_kib < OWASP_MEMORY_COST_KIB or (
            self.argon2_time_cost < OWASP_TIME_COST
        ):
            raise ConfigurationError("argon2 parameters below OWASP's minimum in production")


def _safe_api_base(url: str) -> bool:
    """https anywhere, or plain http to this host's loopback (a local proxy or fake)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def _sqlite_in_memory(database_url: str) -> bool:
    """Whether a SQLAlchemy URL names an SQLite database that lives in memory."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(database_url)
    except ArgumentError:
        return False
    if url.get_backend_name() != "sqlite":
        return False
    database = url.database or ""
    return (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or url.query.get("mode") == "memory"
    )


@dataclass
class Storage:
    """A unit-of-work factory and what it needs closed and checked."""

    uow: UnitOfWorkFactory
    ping: Callable[[], bool]
    close: Callable[[], None]
    # Failed logins live beside the data, so every process of one database shares them.
    throttle: LoginThrottle = field(default_factory=MemoryLoginThrottle)
    # Declined payments and sign-ups, likewise shared (application/throttles.py).
    events: EventCounter = field(default_factory=MemoryEventCounter)
    # How often a process asks the store whether the catalog it keeps in memory changed;
    # memory storage is one process, where asking costs nothing, so it asks every time.
    catalog_recheck: timedelta = timedelta(0)


def _memory_storage(settings: Settings) -> Storage:
    return Storage(MemoryUnitOfWorkFactory(), ping=lambda: True, close=lambda: None)


def _sql_storage(settings: Settings) -> Storage:
    from framesell.adapters.sql.engine import database_is_reachable, make_engine
    from framesell.adapters.sql.migrate import upgrade_to_head
    from framesell.adapters.sql.throttle import SqlEventCounter, SqlLoginThrottle
    from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory

    if settings.auto_migrate:
        upgrade_to_head(settings.database_url)
    engine = make_engine(settings.database_url)
    return Storage(
        SqlUnitOfWorkFactory(engine, SystemClock()),
        ping=lambda: database_is_reachable(engine),
        close=engine.dispose,
        throttle=SqlLoginThrottle(engine),
        events=SqlEventCounter(engine),
        catalog_recheck=CATALOG_RECHECK,
    )


# Stripe's live-mode secret and restricted keys; events of the other mode are not applied.
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")


def _stripe_gateway(settings: Settings) -> PaymentGateway:
    from framesell.adapters.stripe import StripeGateway

    return StripeGateway(
        settings.stripe_secret_key,
        api_base=settings.stripe_api_base,
        timeout_seconds=settings.stripe_timeout_seconds,
        max_retries=settings.stripe_max_retries,
    )


def _fake_gateway(settings: Settings) -> PaymentGateway:
    from framesell.adapters.fake_payments import FakePaymentGateway

    return FakePaymentGateway()


def _stripe_events(settings: Settings, clock: Clock) -> PaymentEventParser:
    from framesell.adapters.stripe_webhooks import StripeEventParser

    return StripeEventParser(settings.stripe_webhook_secret)


def _fake_events(settings: Settings, clock: Clock) -> PaymentEventParser:
    from framesell.adapters.stripe_webhooks import SignedEventParser

    return SignedEventParser(settings.stripe_webhook_secret, clock)


def _crash_after_charge(order: Order, result: PaymentResult) -> None:
    """The test-only fault point: die like a killed process after the money moved."""
    log.critical("fault point: killing the process after charging order %s", order.id)
    os.kill(os.getpid(), signal.SIGKILL)


def _smtp_mailer(settings: Settings) -> Mailer | None:
    from framesell.adapters.smtp import SmtpMailer

    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        sender=settings.mail_sender,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


# One table per port; adding an adapter is one entry here.
MAIL_ADAPTERS: dict[str, Callable[[Settings], Mailer | None]] = {
    "smtp": _smtp_mailer,
    "memory": lambda settings: MemoryMailer(),
    "off": lambda settings: None,
}
STORAGE_ADAPTERS: dict[str, Callable[[Settings], Storage]] = {
    "memory": _memory_storage,
    "sql": _sql_storage,
}
PAYMENT_ADAPTERS: dict[str, Callable[[Settings], PaymentGateway]] = {
    "stripe": _stripe_gateway,
    "fake": _fake_gateway,
}
# Webhook verification follows the payment adapter; a custom gateway gets Stripe's.
EVENT_PARSERS: dict[str, Callable[[Settings, Clock], PaymentEventParser]] = {
    "stripe": _stripe_events,
    "fake": _fake_events,
}


def _payment_factory(name: str) -> Callable[[Settings], PaymentGateway]:
    if name in PAYMENT_ADAPTERS:
        return PAYMENT_ADAPTERS[name]
    module_name, _, attribute = name.partition(":")
    try:
        factory: Callable[[Settings], PaymentGateway] = getattr(
            importlib.import_module(module_name), attribute
        )
    except (ImportError, AttributeError) as error:
        raise ConfigurationError(f"cannot load payment adapter {name!r}: {error}") from None
    return factory


@dataclass
class Services:
    """The shop's services, wired to one adapter per port."""

    settings: Settings
    users: UserService
    catalog: CatalogService
    orders: OrderService
    downloads: DownloadService
    # The payment service, for pshell sessions (entrypoints/pshell.py); the views use orders.
    payments: PaymentService
    requests: IdempotentRequests
    place_order_once: PlaceOrderOnce
    events: PaymentEventParser
    uow: UnitOfWorkFactory
    gateway: PaymentGateway
    clock: Clock
    storage: Storage
    payment_failures: PaymentFailureLimit
    signups: SignupLimit
    mail: MailOutbox | None = None
    mailer: Mailer | None = None

    @property
    def health(self) -> HealthService:
        """Whether the shop's dependencies answer right now (GET /api/health/)."""
        return HealthService(self.storage.ping)

    def close(self) -> None:
        """Release pooled connections."""
        self.storage.close()


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    gateway: PaymentGateway | None = None,
    storage: Storage | None = None,
    mailer: Mailer | None = None,
) -> Services:
    """Build every service from settings; tests may pass their own clock, gateway, storage
    or mailer."""
    clock = clock or SystemClock()
    storage = storage or STORAGE_ADAPTERS[settings.storage](settings)
    if mailer is None and settings.mail:
        mailer = MAIL_ADAPTERS[settings.mail](settings)
    mail = (
        MailOutbox(storage.uow, mailer, clock, ShopMail(owner=settings.mail_owner))
        if mailer is not None
        else None
    )
    gateway = gateway or _payment_factory(settings.payment)(settings)
    hasher = Argon2PasswordHasher(
        memory_cost_kib=settings.argon2_memory_cost_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )
    tokens = JwtTokenService(settings.jwt_secret, clock, settings.jwt_lifetime)
    catalog = CatalogService(storage.uow, clock=clock, recheck_every=storage.catalog_recheck)
    payments = PaymentService(gateway)
    orders = OrderService(
        storage.uow,
        catalog,
        payments,
        clock,
        after_charge=_crash_after_charge if settings.crash_after_charge else no_fault,
        livemode=settings.stripe_secret_key.startswith(LIVE_KEY_PREFIXES),
        shipping_price=Money(settings.shipping_cents),
        mail=mail,
    )
    downloads = DownloadService(
        storage.uow,
        clock,
        # Its own key, derived from the JWT secret: a download link is never a valid token.
        hashlib.sha256(b"framesell-download-links:" + settings.jwt_secret.encode()).digest(),
        lifetime=timedelta(seconds=settings.download_link_seconds),
    )
    requests = IdempotentRequests(
        storage.uow,
        clock,
        lock_timeout=timedelta(seconds=settings.idempotency_lock_seconds),
        keep_for=timedelta(hours=settings.idempotency_keep_hours),
    )
    payment_failures = PaymentFailureLimit(
        storage.events,
        clock,
        per_shopper=settings.payment_failure_limits()[0],
        per_address=settings.payment_failure_limits()[1],
    )
    return Services(
        settings=settings,
        users=UserService(
            storage.uow,
            hasher,
            tokens,
            throttle=storage.throttle,
            clock=clock,
            throttle_policy=settings.login_throttle_policy(),
            address_policy=settings.address_throttle_policy(),
            max_session_age=settings.max_session_age,
            mail=mail,
            reset_link=settings.reset_link,
        ),
        catalog=catalog,
        orders=orders,
        downloads=downloads,
        payments=payments,
        requests=requests,
        place_order_once=PlaceOrderOnce(orders, requests, payment_failures),
        events=EVENT_PARSERS.get(settings.payment, _stripe_events)(settings, clock),
        uow=storage.uow,
        gateway=gateway,
        clock=clock,
        storage=storage,
        payment_failures=payment_failures,
        signups=SignupLimit(storage.events, clock, settings.signup_limit()),
        mail=mail,
        mailer=mailer,
    )


def migrate(settings: Settings) -> None:
    """Bring the SQL schema to the newest migration; memory storage has none."""
    if settings.storage == "sql":
        from framesell.adapters.sql.migrate import upgrade_to_head

        upgrade_to_head(settings.database_url)


def new_migration(settings: Settings, message: str, *, autogenerate: bool = False) -> Path:
    """Write the next Alembic revision of the SQL schema (developers; see docs/development.md)."""
    if settings.storage != "sql":
        raise ConfigurationError("migrations are for framesell.storage = sql")
    from framesell.adapters.sql.migrate import new_revision

    return new_revision(settings.database_url, message, autogenerate=autogenerate)


def project_root() -> Path:
    """The folder holding the package (and, in a checkout, frontend/)."""
    return Path(__file__).resolve().parent.parent
