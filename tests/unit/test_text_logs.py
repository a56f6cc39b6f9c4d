"""development.ini logs readable text lines; production.ini keeps one JSON object per line."""

from __future__ import annotations

import configparser
import logging
from pathlib import Path

from framesell.entrypoints.logs import TextFormatter, request_id_bound

REPOSITORY = Path(__file__).resolve().parents[2]


def ini(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read(REPOSITORY / name)
    return parser


def a_record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("framesell.access", logging.INFO, __file__, 1, message, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def test_development_logs_text_and_production_json() -> None:
    development, production = ini("development.ini"), ini("production.ini")

    assert development["handler_console"]["formatter"] == "text"
    assert development["formatter_text"]["class"] == "framesell.entrypoints.logs.TextFormatter"
    assert production["handler_console"]["formatter"] == "json"


def test_a_request_line_reads_as_text_with_its_extras_and_request_id() -> None:
    formatter = TextFormatter("%(levelname)s [%(name)s] %(message)s")
    record = a_record("%s %s %s", "GET", "/api/order/", 200, method="GET", path="/api/order/",
                      status=200, duration_ms=3.25, user_id=7)  # fmt: skip

    with request_id_bound("req-abc"):
        line = formatter.format(record)

    assert line == (
        "INFO [framesell.access] GET /api/order/ 200  duration_ms=3.25 user_id=7 request_id=req-abc"
    )


def test_a_request_line_formatted_on_another_thread_shows_its_own_request_id_once() -> None:
    formatter = TextFormatter("%(levelname)s [%(name)s] %(message)s")
    record = a_record("%s %s %s", "GET", "/api/order/", 200, method="GET", path="/api/order/",
                      status=200, duration_ms=3.25, user_id=7, request_id="req-abc")  # fmt: skip

    line = formatter.format(record)

    assert line == (
        "INFO [framesell.access] GET /api/order/ 200  duration_ms=3.25 user_id=7 request_id=req-abc"
    )


def test_text_lines_carry_no_secret() -> None:
    formatter = TextFormatter("%(message)s")
    record = a_record("charging with %s", "tok_visa_secret", card="pm_1234567890")

    line = formatter.format(record)

    assert "tok_visa_secret" not in line and "pm_1234567890" not in line
    assert "[REDACTED]" in line
