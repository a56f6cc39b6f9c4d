"""The request log's queued line is the line logging + JsonFormatter would write."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Iterator

import pytest

from framesell.entrypoints.logs import (
    AccessLog,
    JsonFormatter,
    RedactSecrets,
    flush_access_logs,
    request_id_bound,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger of its own, not propagating, with no handlers yet."""
    logger = logging.getLogger(f"framesell.test_access.{id(object())}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger
    logger.handlers.clear()


def _json_handler(stream: io.StringIO, *, redacting: bool = True) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    if redacting:
        handler.addFilter(RedactSecrets())
    return handler


def _through_logging(logger: logging.Logger, method: str, path: str) -> dict[str, object]:
    """What ``logger.info`` with JsonFormatter writes for the same facts (the reference)."""
    stream = io.StringIO()
    logger.addHandler(_json_handler(stream))
    logger.info(
        "%s %s %s",
        method,
        path,
        201,
        extra={"method": method, "path": path, "status": 201, "duration_ms": 1.5, "user_id": 7},
    )
    logger.handlers.clear()
    line: dict[str, object] = json.loads(stream.getvalue())
    return line


@pytest.mark.parametrize(
    "path", ["/api/order/", f"/api/product/{JWT}/", "/api/ünïcode/\"quoted\"/", "/tok_visa123/"]
)
def test_the_queued_line_is_the_line_json_logging_writes(logger: logging.Logger, path: str) -> None:
    with request_id_bound("req-1"):
        expected = _through_logging(logger, "POST", path)
        stream = io.StringIO()
        logger.addHandler(_json_handler(stream))
        AccessLog(logger).write("POST", path, 201, 1.5, 7)
    flush_access_logs()
    [written] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert list(written) == list(expected)  # same fields, same order
    assert {**written, "time": None} == {**expected, "time": None}
    assert str(written["time"]).endswith("Z")
    assert JWT not in stream.getvalue() and "tok_visa123" not in stream.getvalue()


def test_a_handler_with_another_formatter_gets_an_ordinary_log_record(
    logger: logging.Logger,
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(status)s"))
    logger.addHandler(handler)
    AccessLog(logger).write("GET", "/api/product/", 200, 0.3, None)
    flush_access_logs()
    assert stream.getvalue() == "INFO GET /api/product/ 200 200\n"


def test_a_line_written_by_the_listener_keeps_its_requests_id_and_thread(
    logger: logging.Logger,
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(threadName)s %(message)s"))
    logger.addHandler(handler)
    json_stream = io.StringIO()
    logger.addHandler(_json_handler(json_stream))
    with request_id_bound("req-from-the-caller"):
        AccessLog(logger).write("GET", "/api/order/", 200, 0.3, 7)
    flush_access_logs()
    assert stream.getvalue() == f"{threading.current_thread().name} GET /api/order/ 200\n"
    assert json.loads(json_stream.getvalue())["request_id"] == "req-from-the-caller"


def test_handlers_above_info_and_disabled_loggers_get_nothing(logger: logging.Logger) -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    quiet_handler = _json_handler(quiet)
    quiet_handler.setLevel(logging.WARNING)
    logger.addHandler(quiet_handler)
    logger.addHandler(_json_handler(loud, redacting=False))
    AccessLog(logger).write("GET", "/api/product/", 200, 0.3, None)
    flush_access_logs()
    assert quiet.getvalue() == "" and len(loud.getvalue().splitlines()) == 1
    logger.setLevel(logging.WARNING)
    AccessLog(logger).write("GET", "/api/product/", 200, 0.3, None)
    flush_access_logs()
    assert len(loud.getvalue().splitlines()) == 1


def test_a_filter_on_the_logger_is_honoured(logger: logging.Logger) -> None:
    stream = io.StringIO()
    logger.addHandler(_json_handler(stream))
    logger.addFilter(lambda record: record.getMessage() != "GET /secret-path/ 200")
    access = AccessLog(logger)
    access.write("GET", "/secret-path/", 200, 0.3, None)
    access.write("GET", "/api/product/", 200, 0.3, None)
    flush_access_logs()
    assert [json.loads(line)["path"] for line in stream.getvalue().splitlines()] == [
        "/api/product/"
    ]


def test_queued_lines_are_written_within_a_moment_in_order_without_a_flush(
    logger: logging.Logger,
) -> None:
    stream = io.StringIO()
    logger.addHandler(_json_handler(stream))
    access = AccessLog(logger)
    for number in range(50):
        access.write("GET", f"/api/order/{number}/", 200, 0.3, number)
    deadline = time.monotonic() + 5
    while len(stream.getvalue().splitlines()) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["user_id"] for line in lines] == list(range(50))
