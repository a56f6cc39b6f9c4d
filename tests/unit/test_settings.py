"""Each setting has one home, its row: the docs, ini files, adapter tables and checks agree."""

from __future__ import annotations

import re
from configparser import ConfigParser
from datetime import timedelta
from pathlib import Path

import pytest

from framesell.bootstrap import MAIL_ADAPTERS, PAYMENT_ADAPTERS, STORAGE_ADAPTERS
from framesell.settings import ROWS, ConfigurationError, Setting, Settings

REPOSITORY = Path(__file__).resolve().parents[2]
OPERATIONS = REPOSITORY / "docs" / "operations.md"
ROW_BY_KEY = {row.key: row for row in ROWS}
# Each refusal below is tested against these: a production that starts.
GOOD_PRODUCTION = {
    "framesell.environment": "production",
    "framesell.database_url": "mysql+pymysql://shop:pw@db.internal/framesell",
    "framesell.jwt.secret": "x" * 32,
    "framesell.stripe.secret_key": "sk_live_example",
    "framesell.stripe.webhook_secret": "whsec_example",
    "framesell.mail": "smtp",
    "framesell.smtp.host": "smtp.example.com",
    "framesell.shop_url": "https://shop.example.com/",
}


def documented_rows() -> list[dict[str, str]]:
    """The settings table of docs/operations.md, one dict per line, keyed by its header."""
    section = OPERATIONS.read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def cell(text: str) -> str:
    """A table cell's value: the text inside backticks, or empty for —."""
    return "" if text == "—" else text.strip("`")


def test_the_documented_settings_table_lists_every_row_with_its_key_variable_and_default() -> None:
    documented = {cell(line["ini key"]): line for line in documented_rows()}
    assert sorted(documented) == sorted(ROW_BY_KEY)
    for key, row in ROW_BY_KEY.items():
        assert (key, cell(documented[key]["variable"])) == (key, row.variable)
        assert (key, cell(documented[key]["default"])) == (key, row.default)


def test_each_setting_is_one_row_and_one_field() -> None:
    fields = [name for name in Settings.__dataclass_fields__ if name != "extra"]
    assert sorted(row.name for row in ROWS) == sorted(fields)
    assert len(ROW_BY_KEY) == len(ROWS)
    variables = [row.variable for row in ROWS if row.variable]
    assert len(set(variables)) == len(variables)


@pytest.mark.parametrize("ini", ["production.ini", "development.ini"])
def test_every_framesell_key_of_the_ini_files_is_a_row(ini: str) -> None:
    parser = ConfigParser(interpolation=None)
    parser.read(REPOSITORY / ini)
    keys = {
        key
        for section in parser.sections()
        for key in parser[section]
        if key.startswith("framesell.")
    }
    assert keys, f"no framesell.* settings found in {ini}"
    assert keys - set(ROW_BY_KEY) == set()


@pytest.mark.parametrize(
    ("key", "table"),
    [
        ("framesell.storage", STORAGE_ADAPTERS),
        ("framesell.payment", PAYMENT_ADAPTERS),
        ("framesell.mail", MAIL_ADAPTERS),
    ],
)
def test_the_names_a_setting_accepts_are_the_names_of_its_adapter_table(
    key: str, table: dict[str, object]
) -> None:
    assert sorted(ROW_BY_KEY[key].choices) == sorted(table)


def test_an_absent_setting_takes_its_rows_default() -> None:
    settings = Settings.from_mapping(
        {"framesell.storage": "memory", "framesell.payment": "fake", "framesell.jwt.secret": "s"},
        environ={},
    )
    assert settings.environment == "development"
    assert settings.jwt_lifetime == timedelta(hours=1)
    assert settings.stripe_api_base is None
    assert settings.stripe_timeout_seconds == 10.0
    assert settings.shipping_cents == 900
    assert settings.smtp_starttls is True
    assert settings.mail_sender == "FrameSell <shop@framesell.invalid>"
    assert settings.trusted_proxies == ()


def test_an_environment_variable_overrides_the_ini_and_an_empty_one_does_not() -> None:
    raw = {"framesell.storage": "memory", "framesell.payment": "fake", "framesell.jwt.secret": "s"}
    settings = Settings.from_mapping(
        {**raw, "framesell.smtp.port": "25", "framesell.mail.owner": "ini@example.com"},
        environ={"FRAMESELL_SMTP_PORT": "2525", "FRAMESELL_MAIL_OWNER": ""},
    )
    assert settings.smtp_port == 2525
    assert settings.mail_owner == "ini@example.com"


def test_a_blank_number_means_its_default_but_a_blank_adapter_name_is_refused() -> None:
    raw = {"framesell.storage": "memory", "framesell.payment": "fake", "framesell.jwt.secret": "s"}
    assert Settings.from_mapping({**raw, "framesell.smtp.port": " "}, {}).smtp_port == 587
    with pytest.raises(ConfigurationError, match=r"unknown framesell\.storage ''"):
        Settings.from_mapping({**raw, "framesell.storage": ""}, {})


def test_a_number_that_is_not_one_names_its_key() -> None:
    raw = {"framesell.storage": "memory", "framesell.payment": "fake", "framesell.jwt.secret": "s"}
    with pytest.raises(ConfigurationError, match=r"framesell\.smtp\.port must be an integer"):
        Settings.from_mapping({**raw, "framesell.smtp.port": "many"}, {})


def test_the_good_production_settings_start() -> None:
    assert Settings.from_mapping(GOOD_PRODUCTION, environ={}).is_production


@pytest.mark.parametrize(
    ("key", "value", "refusal"),
    [
        ("framesell.environment", "staging", "unknown framesell.environment 'staging'"),
        ("framesell.trusted_proxies", "10.0.0.1 proxy", "'proxy' is not an IP address"),
        ("framesell.smtp.host", "", r"framesell.mail = smtp needs framesell.smtp.host"),
        ("framesell.login.max_failures", "0", r"framesell\.login\.\*"),
        ("framesell.signup.window_seconds", "0", r"framesell\.signup\.\*"),
        ("framesell.stripe.webhook_secret", "", "WEBHOOK_SECRET is required in production"),
        ("framesell.testing.crash_after_charge", "true", "fault points are for tests only"),
        ("framesell.idempotency.keep_hours", "23", "kept at least 24 hours"),
        ("framesell.argon2.memory_cost_kib", "19455", "below OWASP's minimum"),
        ("framesell.argon2.time_cost", "1", "below OWASP's minimum"),
        ("framesell.stripe.secret_key", "sk_test_framesell_development", "published"),
    ],
)
def test_production_refuses_each_unsafe_setting_with_its_reason(
    key: str, value: str, refusal: str
) -> None:
    with pytest.raises(ConfigurationError, match=refusal):
        Settings.from_mapping({**GOOD_PRODUCTION, key: value}, environ={})


def test_the_production_rules_do_not_apply_elsewhere() -> None:
    settings = Settings.from_mapping(
        {**GOOD_PRODUCTION, "framesell.environment": "test", "framesell.argon2.time_cost": "1"},
        environ={},
    )
    assert settings.argon2_time_cost == 1


def test_a_required_setting_is_refused_by_its_key_and_variable() -> None:
    row = ROW_BY_KEY["framesell.jwt.secret"]
    assert isinstance(row, Setting)
    with pytest.raises(
        ConfigurationError,
        match=re.escape("framesell.jwt.secret (FRAMESELL_JWT_SECRET) is required"),
    ):
        Settings.from_mapping({**GOOD_PRODUCTION, "framesell.jwt.secret": ""}, environ={})
