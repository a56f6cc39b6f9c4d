"""The composition root: one adapter table per port, chosen by an ini key; ``Shop``; ``bootstrap``.

Takes ``Settings`` already parsed and checked (``framesell.settings``), picks one adapter per
port and wires the shop. The only module that knows every layer. Pyramid's ``main``,
the ``framesell`` command and the tests all build the shop through ``bootstrap``.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path

from framesell.adapters.argon2 import Argon2PasswordHasher
from framesell.adapters.clock import SystemClock
from framesell.adapters.jwt import JwtTokenService
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
from framesell.application.idempotency import IdempotentRequests, PlaceOrderOnce
from framesell.application.mail import MailOutbox, ShopMail
from framesell.application.orders import AfterCharge, OrderService, no_fault
from framesell.application.payments import PaymentService
from framesell.application.ports import (
    Clock,
    EventCounter,
    LoginThrottle,
    Mailer,
    OrderListVersions,
    PaymentEventParser,
    PaymentGateway,
    UnitOfWorkFactory,
)
from framesell.application.throttles import PaymentFailureLimit, SignupLimit
from framesell.application.users import UserService
from framesell.domain.money import Money
from framesell.settings import ConfigurationError, Settings


def _no_migrations(message: str, autogenerate: bool) -> Path:
    raise ConfigurationError("migrations are for framesell.storage = sql")


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
    # Order list versions read outside a unit of work (None: through one).
    list_versions: OrderListVersions | None = None
    # How often a process asks the store whether the catalog it keeps in memory changed;
    # memory storage is one process, where asking costs nothing, so it asks every time.
    catalog_recheck: timedelta = timedelta(0)
    # Brings the schema up to the newest migration (``framesell migrate``); memory has none.
    migrate: Callable[[], None] = lambda: None
    # Writes the next schema revision, given its message and whether to autogenerate it, and
    # returns its file (``framesell new-migration``, for developers; docs/development.md).
    new_migration: Callable[[str, bool], Path] = _no_migrations


def _memory_storage(settings: Settings) -> Storage:
    return Storage(MemoryUnitOfWorkFactory(), ping=lambda: True, close=lambda: None)


def _sql_storage(settings: Settings) -> Storage:
    from framesell.adapters.sql.engine import database_is_reachable, make_engine
    from framesell.adapters.sql.migrate import new_revision, upgrade_to_head
    from framesell.adapters.sql.order_lists import SqlOrderListVersions, reader_engine
    from framesell.adapters.sql.throttle import SqlEventCounter, SqlLoginThrottle
    from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory

    def migrate() -> None:
        upgrade_to_head(settings.database_url)

    def new_migration(message: str, autogenerate: bool) -> Path:
        return new_revision(settings.database_url, message, autogenerate=autogenerate)

    if settings.auto_migrate:
        migrate()
    engine = make_engine(settings.database_url)
    reader = reader_engine(settings.database_url, engine)

    def close() -> None:
        engine.dispose()
        reader.dispose()  # the same engine on SQLite: disposing twice is harmless

    return Storage(
        SqlUnitOfWorkFactory(engine, SystemClock()),
        ping=lambda: database_is_reachable(engine),
        close=close,
        list_versions=SqlOrderListVersions(reader),
        throttle=SqlLoginThrottle(engine),
        events=SqlEventCounter(engine),
        catalog_recheck=CATALOG_RECHECK,
        migrate=migrate,
        new_migration=new_migration,
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


def _after_charge(settings: Settings) -> AfterCharge:
    if not settings.crash_after_charge:
        return no_fault
    from framesell.adapters.fault_points import kill_after_charge

    return kill_after_charge


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
class Shop:
    """The shop, wired to one adapter per port: its use-case services and what they run on."""

    settings: Settings
    users: UserService
    catalog: CatalogService
    orders: OrderService
    downloads: DownloadService
    # The payment service, for pshell sessions (entrypoints/pshell.py); the views use orders.
    payments: PaymentService
    idempotency: IdempotentRequests
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

    @cached_property
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
) -> Shop:
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
        after_charge=_after_charge(settings),
        livemode=settings.stripe_secret_key.startswith(LIVE_KEY_PREFIXES),
        shipping_price=Money(settings.shipping_cents),
        mail=mail,
        list_versions=storage.list_versions,
    )
    downloads = DownloadService(
        storage.uow,
        clock,
        # Its own key, derived from the JWT secret: a download link is never a valid token.
        hashlib.sha256(b"framesell-download-links:" + settings.jwt_secret.encode()).digest(),
        lifetime=timedelta(seconds=settings.download_link_seconds),
    )
    idempotency = IdempotentRequests(
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
    return Shop(
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
        idempotency=idempotency,
        place_order_once=PlaceOrderOnce(orders, idempotency, payment_failures),
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
