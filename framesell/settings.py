"""Every setting the shop reads: one declarative row each, and ``Settings`` parsed from them.

A row (``Setting``) names an ini key, the environment variable that overrides it, how its
text is parsed, its default, and the rules it must meet in every environment and in
production. Parsing, the ``FRAMESELL_*`` overrides, the start-up checks and the settings
table in docs/operations.md (``tests/unit/test_settings.py`` compares them) all follow
from ``ROWS``. Adding a setting is one row, a field of ``Settings``, the ini files if it
needs a value there, and one line of that table.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from framesell.adapters.argon2 import OWASP_MEMORY_COST_KIB, OWASP_PARALLELISM, OWASP_TIME_COST
from framesell.adapters.jwt import MIN_SECRET_BYTES
from framesell.domain.errors import DomainError
from framesell.domain.money import Money
from framesell.domain.throttling import RateLimit, ThrottlePolicy


class ConfigurationError(RuntimeError):
    """A missing, unknown or unsafe setting: the shop refuses to start."""


# Secrets written in development.ini for everyone to read: never good enough for production.
PUBLIC_DEVELOPMENT_SECRETS = frozenset(
    {
        "development-only-jwt-secret-not-for-production",
        "whsec_framesell_development_only",
        "sk_test_framesell_development",
    }
)
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
TRUTHY = {"1", "true", "yes", "on"}

# How a setting's text becomes its value: (text, ini key) -> value, or ConfigurationError.
Parser = Callable[[str, str], Any]
# A rule: (the row, its parsed value, all settings) -> the refusal, or None when it holds.
Rule = Callable[["Setting", Any, "Settings"], "str | None"]


def text(value: str, key: str) -> str:
    """Text, surrounding blanks dropped."""
    return value.strip()


def secret(value: str, key: str) -> str:
    """A secret exactly as given (a blank at either end is part of it)."""
    return value


def optional_text(value: str, key: str) -> str | None:
    """Text, or None when blank."""
    return value.strip() or None


def integer(value: str, key: str) -> int:
    """A whole number."""
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{key} must be an integer, got {value!r}") from None


def number(value: str, key: str) -> float:
    """A number, fractions allowed."""
    try:
        return float(value)
    except ValueError:
        raise ConfigurationError(f"{key} must be a number, got {value!r}") from None


def seconds(value: str, key: str) -> timedelta:
    """A whole number of seconds, as a duration."""
    return timedelta(seconds=integer(value, key))


def boolean(value: str, key: str) -> bool:
    """true, yes, on or 1 (any case); anything else is false."""
    return value.strip().lower() in TRUTHY


def words(value: str, key: str) -> tuple[str, ...]:
    """A space-separated list."""
    return tuple(value.split())


def price_in_cents(value: str, key: str) -> int:
    """An amount in major units ("9.00", "0"), as cents."""
    amount = value.strip()
    if amount.replace(".", "", 1).isdigit() and set(amount) <= {"0", "."}:
        return 0  # free shipping
    try:
        return Money.from_major(amount).cents
    except DomainError:
        raise ConfigurationError(f"{key} must be an amount such as 9.00, not {amount!r}") from None


@dataclass(frozen=True)
class Setting:
    """One setting: where it is read from, how it is parsed, and what it must satisfy."""

    name: str  # the attribute of Settings
    key: str  # the ini key
    default: str  # as it would be written in the ini; used when the key is absent
    parse: Parser = text
    variable: str = ""  # the environment variable that overrides the ini, if any
    # A blank value in the ini means the default, unless it is parsed as written.
    blank_is_a_value: bool = False
    choices: tuple[str, ...] = ()  # the names one_of accepts (adapter tables use the same)
    rules: tuple[Rule, ...] = ()  # in every environment
    production: tuple[Rule, ...] = ()  # only where framesell.environment = production

    @property
    def label(self) -> str:
        """The ini key, with its environment variable when it has one."""
        return f"{self.key} ({self.variable})" if self.variable else self.key

    def value_in(self, raw: Mapping[str, Any]) -> Any:
        """This setting's value among already overridden ini settings."""
        given = raw.get(self.key)
        text_given = "" if given is None else str(given)
        if given is None or (text_given.strip() == "" and not self.blank_is_a_value):
            text_given = self.default
        return self.parse(text_given, self.key)


# Rules. Each returns the refusal, or None.


def one_of(*, or_path: bool = False, or_unset: bool = False) -> Rule:
    """The value is one of the row's choices (or a module:factory path, or not set)."""

    def rule(row: Setting, value: Any, settings: Settings) -> str | None:
        if value in row.choices or (or_path and ":" in value) or (or_unset and value == ""):
            return None
        alternative = " or a module:factory path" if or_path else ""
        return (
            f"unknown {row.key} {value!r}; choose one of "
            + ", ".join(sorted(row.choices))
            + alternative
        )

    return rule


def required(when: Callable[[Settings], bool] = lambda settings: True) -> Rule:
    """The value is not empty (when the condition holds)."""

    def rule(row: Setting, value: Any, settings: Settings) -> str | None:
        return f"{row.label} is required" if not value and when(settings) else None

    return rule


def refuse(
    when: Callable[[Any, Settings], bool], message: str | Callable[[Any], str]
) -> Rule:
    """Refuse with ``message`` when the condition holds of the value (and the settings)."""

    def rule(row: Setting, value: Any, settings: Settings) -> str | None:
        if not when(value, settings):
            return None
        return message(value) if callable(message) else message

    return rule


def builds(make: Callable[[Settings], object]) -> Rule:
    """The settings this row belongs to build a workable object (``make`` raises if not)."""

    def rule(row: Setting, value: Any, settings: Settings) -> str | None:
        make(settings)
        return None

    return rule


def at_least(minimum: int, message: str) -> Rule:
    """The value is no smaller than ``minimum``."""
    return refuse(lambda value, settings: value < minimum, message)


def _networks(row: Setting, value: tuple[str, ...], settings: Settings) -> str | None:
    for proxy in value:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            return f"framesell.trusted_proxies: {proxy!r} is not an IP address or network"
    return None


def _no_network_of_everyone(
    row: Setting, value: tuple[str, ...], settings: Settings
) -> str | None:
    for proxy in value:
        if ipaddress.ip_network(proxy, strict=False).prefixlen == 0:
            return (
                f"framesell.trusted_proxies: {proxy} trusts every address, so any client "
                "could name its own address in X-Forwarded-For"
            )
    return None


def safe_api_base(url: str) -> bool:
    """https anywhere, or plain http to this host's loopback (a local proxy or fake)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def sqlite_in_memory(database_url: str) -> bool:
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


PUBLISHED = refuse(
    lambda value, settings: value in PUBLIC_DEVELOPMENT_SECRETS,
    "production uses a secret published in development.ini; set your own "
    "FRAMESELL_JWT_SECRET, FRAMESELL_STRIPE_SECRET_KEY and FRAMESELL_STRIPE_WEBHOOK_SECRET",
)
OWASP_MINIMUM = "argon2 parameters below OWASP's minimum in production"


def _row(name: str, key: str, default: str = "", parse: Parser = text, **more: Any) -> Setting:
    return Setting(name, key, default, parse, **more)


# Every setting, in the order its rules are checked (in every environment, then production).
ROWS: tuple[Setting, ...] = (
    _row(
        "environment",
        "framesell.environment",
        "development",
        blank_is_a_value=True,
        choices=("production", "development", "test"),
        rules=(one_of(),),
    ),
    _row(
        "storage",
        "framesell.storage",
        "sql",
        variable="FRAMESELL_STORAGE",
        blank_is_a_value=True,
        choices=("memory", "sql"),
        rules=(one_of(),),
        production=(
            refuse(
                lambda value, settings: value != "sql",
                "production keeps its data in SQL (framesell.storage = sql)",
            ),
        ),
    ),
    _row(
        "payment",
        "framesell.payment",
        "stripe",
        variable="FRAMESELL_PAYMENT",
        blank_is_a_value=True,
        choices=("fake", "stripe"),
        rules=(one_of(or_path=True),),
        production=(
            refuse(
                lambda value, settings: value == "fake",
                "production never takes payments with the fake gateway",
            ),
        ),
    ),
    _row(
        "database_url",
        "framesell.database_url",
        variable="FRAMESELL_DATABASE_URL",
        rules=(required(when=lambda settings: settings.storage == "sql"),),
        production=(
            refuse(
                lambda value, settings: settings.storage == "sql" and sqlite_in_memory(value),
                "production keeps its data in a database that outlives the process, "
                "not SQLite in memory",
            ),
        ),
    ),
    _row("auto_migrate", "framesell.auto_migrate", "false", boolean),
    _row(
        "jwt_secret",
        "framesell.jwt.secret",
        parse=secret,
        variable="FRAMESELL_JWT_SECRET",
        rules=(required(),),
        production=(
            refuse(
                lambda value, settings: len(value.encode()) < MIN_SECRET_BYTES,
                f"FRAMESELL_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes in production",
            ),
            PUBLISHED,
        ),
    ),
    _row("jwt_lifetime", "framesell.jwt.lifetime_seconds", "3600", seconds),
    _row("max_session_age", "framesell.jwt.max_session_age_seconds", "604800", seconds),
    _row(
        "stripe_secret_key",
        "framesell.stripe.secret_key",
        variable="FRAMESELL_STRIPE_SECRET_KEY",
        rules=(required(when=lambda settings: settings.payment == "stripe"),),
        production=(PUBLISHED,),
    ),
    _row(
        "stripe_webhook_secret",
        "framesell.stripe.webhook_secret",
        variable="FRAMESELL_STRIPE_WEBHOOK_SECRET",
        production=(
            PUBLISHED,
            refuse(
                lambda value, settings: settings.payment == "stripe" and not value,
                "FRAMESELL_STRIPE_WEBHOOK_SECRET is required in production",
            ),
        ),
    ),
    _row(
        "stripe_publishable_key",
        "framesell.stripe.publishable_key",
        variable="FRAMESELL_STRIPE_PUBLISHABLE_KEY",
    ),
    _row(
        "stripe_api_base",
        "framesell.stripe.api_base",
        parse=optional_text,
        variable="FRAMESELL_STRIPE_API_BASE",
        production=(
            refuse(
                lambda value, settings: value is not None and not safe_api_base(value),
                "framesell.stripe.api_base must be an https:// address in production "
                "(plain http only to this host's loopback)",
            ),
        ),
    ),
    _row(
        "stripe_js_url",
        "framesell.stripe.js_url",
        "https://js.stripe.com/v3/",
        variable="FRAMESELL_STRIPE_JS_URL",
    ),
    _row("stripe_timeout_seconds", "framesell.stripe.timeout_seconds", "10", number),
    _row("stripe_max_retries", "framesell.stripe.max_retries", "2", integer),
    _row(
        "cors_origins", "framesell.cors_origins", parse=words, variable="FRAMESELL_CORS_ORIGINS"
    ),
    _row(
        "trusted_proxies",
        "framesell.trusted_proxies",
        parse=words,
        variable="FRAMESELL_TRUSTED_PROXIES",
        rules=(_networks,),
        production=(_no_network_of_everyone,),
    ),
    _row("frontend_dir", "framesell.frontend_dir"),
    _row("login_max_failures", "framesell.login.max_failures", "10", integer),
    _row("login_window_seconds", "framesell.login.window_seconds", "900", integer),
    _row("login_max_lockout_seconds", "framesell.login.max_lockout_seconds", "3600", integer),
    _row("login_address_max_failures", "framesell.login.address_max_failures", "100", integer),
    _row(
        "login_address_window_seconds",
        "framesell.login.address_window_seconds",
        "900",
        integer,
        rules=(
            builds(lambda settings: settings.login_throttle_policy()),
            builds(lambda settings: settings.address_throttle_policy()),
        ),
    ),
    _row(
        "payment_failures_per_shopper", "framesell.payments.max_failures_per_shopper", "5", integer
    ),
    _row(
        "payment_failures_per_address",
        "framesell.payments.max_failures_per_address",
        "20",
        integer,
    ),
    _row(
        "payment_failure_window_seconds",
        "framesell.payments.failure_window_seconds",
        "3600",
        integer,
        rules=(builds(lambda settings: settings.payment_failure_limits()),),
    ),
    _row("signups_per_address", "framesell.signup.max_per_address", "20", integer),
    _row(
        "signup_window_seconds",
        "framesell.signup.window_seconds",
        "3600",
        integer,
        rules=(builds(lambda settings: settings.signup_limit()),),
    ),
    _row(
        "shipping_cents",
        "framesell.shipping.price",
        "9.00",
        price_in_cents,
        blank_is_a_value=True,
    ),
    _row("download_link_seconds", "framesell.downloads.link_seconds", "900", integer),
    # smtp | memory | off; not set sends nothing, and production refuses that.
    _row(
        "mail",
        "framesell.mail",
        variable="FRAMESELL_MAIL",
        choices=("memory", "off", "smtp"),
        rules=(one_of(or_unset=True),),
        production=(
            refuse(
                lambda value, settings: value not in ("smtp", "off"),
                "production sends mail over SMTP: set FRAMESELL_SMTP_HOST (and"
                " FRAMESELL_SMTP_USERNAME, FRAMESELL_SMTP_PASSWORD, FRAMESELL_MAIL_OWNER), or"
                " turn mail off explicitly with FRAMESELL_MAIL=off",
            ),
        ),
    ),
    _row(
        "smtp_host",
        "framesell.smtp.host",
        variable="FRAMESELL_SMTP_HOST",
        rules=(
            refuse(
                lambda value, settings: settings.mail == "smtp" and not value,
                "framesell.mail = smtp needs framesell.smtp.host (FRAMESELL_SMTP_HOST)",
            ),
        ),
    ),
    _row("smtp_port", "framesell.smtp.port", "587", integer, variable="FRAMESELL_SMTP_PORT"),
    _row("smtp_username", "framesell.smtp.username", variable="FRAMESELL_SMTP_USERNAME"),
    _row(
        "smtp_password", "framesell.smtp.password", parse=secret, variable="FRAMESELL_SMTP_PASSWORD"
    ),
    _row(
        "smtp_starttls",
        "framesell.smtp.starttls",
        "true",
        boolean,
        variable="FRAMESELL_SMTP_STARTTLS",
        blank_is_a_value=True,
    ),
    _row(
        "mail_sender",
        "framesell.mail.sender",
        "FrameSell <shop@framesell.invalid>",
        variable="FRAMESELL_MAIL_SENDER",
    ),
    _row("mail_owner", "framesell.mail.owner", variable="FRAMESELL_MAIL_OWNER"),
    # Where shoppers open the shop (links in mails), e.g. https://shop.example.com/
    _row(
        "shop_url",
        "framesell.shop_url",
        variable="FRAMESELL_SHOP_URL",
        production=(
            refuse(
                lambda value, settings: settings.mail == "smtp"
                and not value.startswith("https://"),
                "FRAMESELL_SHOP_URL (the https:// address of the shop, for links in mails)"
                " is required in production",
            ),
        ),
    ),
    _row(
        "idempotency_lock_seconds", "framesell.idempotency.lock_seconds", "90", integer
    ),
    _row(
        "idempotency_keep_hours",
        "framesell.idempotency.keep_hours",
        "24",
        integer,
        production=(at_least(24, "Idempotency-Keys must be kept at least 24 hours"),),
    ),
    _row(
        "argon2_memory_cost_kib",
        "framesell.argon2.memory_cost_kib",
        str(OWASP_MEMORY_COST_KIB),
        integer,
        production=(at_least(OWASP_MEMORY_COST_KIB, OWASP_MINIMUM),),
    ),
    _row(
        "argon2_time_cost",
        "framesell.argon2.time_cost",
        str(OWASP_TIME_COST),
        integer,
        production=(at_least(OWASP_TIME_COST, OWASP_MINIMUM),),
    ),
    _row("argon2_parallelism", "framesell.argon2.parallelism", str(OWASP_PARALLELISM), integer),
    # The fault point of tests/system: kill the process after a charge (adapters/fault_points.py).
    _row(
        "crash_after_charge",
        "framesell.testing.crash_after_charge",
        "false",
        boolean,
        production=(
            refuse(
                lambda value, settings: value,
                "framesell.testing.* fault points are for tests only",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class Settings:
    """Every setting the shop reads, parsed from ``ROWS`` and checked once at start-up."""

    environment: str
    storage: str
    payment: str
    database_url: str
    auto_migrate: bool
    jwt_secret: str
    jwt_lifetime: timedelta
    max_session_age: timedelta
    stripe_secret_key: str
    stripe_webhook_secret: str
    stripe_publishable_key: str
    stripe_api_base: str | None
    stripe_js_url: str
    stripe_timeout_seconds: float
    stripe_max_retries: int
    cors_origins: tuple[str, ...]
    trusted_proxies: tuple[str, ...]
    frontend_dir: str
    login_max_failures: int
    login_window_seconds: int
    login_max_lockout_seconds: int
    login_address_max_failures: int
    login_address_window_seconds: int
    payment_failures_per_shopper: int
    payment_failures_per_address: int
    payment_failure_window_seconds: int
    signups_per_address: int
    signup_window_seconds: int
    shipping_cents: int
    download_link_seconds: int
    mail: str
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str
    smtp_starttls: bool
    mail_sender: str
    mail_owner: str
    shop_url: str
    idempotency_lock_seconds: int
    idempotency_keep_hours: int
    argon2_memory_cost_kib: int
    argon2_time_cost: int
    argon2_parallelism: int
    crash_after_charge: bool
    # The ini settings as read, overrides applied (keys no row names included).
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
        for row in ROWS:
            if row.variable and environ.get(row.variable, "") != "":
                raw[row.key] = environ[row.variable]
        settings = cls(**{row.name: row.value_in(raw) for row in ROWS}, extra=raw)
        settings.check()
        return settings

    def check(self) -> None:
        """Raise ConfigurationError for a row's broken rule (production's too, there)."""
        self._apply(lambda row: row.rules)
        if self.is_production:
            self._apply(lambda row: row.production)

    def _apply(self, rules_of: Callable[[Setting], tuple[Rule, ...]]) -> None:
        for row in ROWS:
            for rule in rules_of(row):
                refusal = rule(row, getattr(self, row.name), self)
                if refusal is not None:
                    raise ConfigurationError(refusal)

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
