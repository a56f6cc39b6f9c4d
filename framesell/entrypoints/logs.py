"""Structured logs: one JSON object per line, with secrets redacted from every line.

``JsonFormatter`` is named by the ini files' ``[formatter_json]`` section;
``RedactSecrets`` is a logging filter the app installs on the root logger's handlers, so
even a plain-text formatter never prints a password, token or key.
"""

from __future__ import annotations

import atexit
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from queue import SimpleQueue
from typing import Any

REDACTED = "[REDACTED]"

# The request being served by this thread, for every line logged while serving it.
current_request_id: ContextVar[str | None] = ContextVar("framesell_request_id", default=None)

# Keys whose values are secrets wherever they appear (JSON, repr, form or key=value text).
SENSITIVE_NAMES = (
    "password|passwd|new_password|token|access_token|refresh_token|client_secret|secret|"
    "secret_key|api_key|jwt_secret|webhook_secret|authorization|http_authorization|"
    "stripe-signature|http_stripe_signature|cookie|http_cookie"
)
SENSITIVE_NAME_SET = frozenset(SENSITIVE_NAMES.split("|"))
_SCHEMES = "bearer|jwt|basic|digest"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"

SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # "password": "…", 'token': '…', password=…, Authorization: … (quoted or bare values).
    (
        re.compile(
            rf"(?i)([\"']?\b(?:{SENSITIVE_NAMES})\b[\"']?\s*[:=]\s*)"
            rf"(?:{_QUOTED}|(?:(?:{_SCHEMES})\s+)?[^\s,&;}}\"']+)"
        ),
        lambda m: f"{m.group(1)}{_quote_like(m.group(0)[len(m.group(1)):])}",
    ),
    # JSON Web Tokens, wherever they appear.
    (
        re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
        "[REDACTED JWT]",
    ),
    # Credentials after an Authorization scheme.
    (
        re.compile(rf"(?i)\b({_SCHEMES})\s+[A-Za-z0-9._~+/=-]{{8,}}"),
        rf"\1 {REDACTED}",
    ),
    # PaymentIntent and SetupIntent client secrets.
    (re.compile(r"\b((?:pi|seti)_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+"), rf"\1_secret_{REDACTED}"),
    # Stripe card tokens, payment methods, confirmation tokens, secret and webhook keys.
    (
        re.compile(r"\b(tok|pm|ctoken|sk|rk|whsec)_[A-Za-z0-9_]{3,}"),
        rf"\1_{REDACTED}",
    ),
)


def _quote_like(value: str) -> str:
    """REDACTED in the same quotes as the value it replaces."""
    if value[:1] in {'"', "'"}:
        return f"{value[0]}{REDACTED}{value[0]}"
    return REDACTED


# Text in which none of these occurs (compared in lower case) matches no SECRET_PATTERNS,
# so it is returned as it is after one search instead of five substitutions
# (most log lines: a request line, ids, numbers). A new pattern must add the literal text
# it cannot match without.
_MAYBE_SECRET = re.compile(
    "|".join(
        re.escape(literal.lower())
        for literal in (
            *SENSITIVE_NAME_SET,
            *_SCHEMES.split("|"),
            "eyJ",
            "_secret_",
            "tok_",
            "pm_",
            "ctoken_",
            "sk_",
            "rk_",
            "whsec_",
        )
    )
)


# Short texts already found to hold nothing secret (methods, paths, logger names), so the
# same request line is not searched again; bounded, and never holds a text with a secret.
_CLEAN_TEXTS: dict[str, None] = {}
_CLEAN_TEXTS_MAX = 4096
_CLEAN_TEXT_MAX_LENGTH = 200


def redact(text: str) -> str:
    """The text with every password, token, card token, secret key and JWT replaced."""
    if text in _CLEAN_TEXTS:
        return text
    if _MAYBE_SECRET.search(text.lower()) is None:
        if len(text) <= _CLEAN_TEXT_MAX_LENGTH:
            if len(_CLEAN_TEXTS) >= _CLEAN_TEXTS_MAX:
                _CLEAN_TEXTS.clear()
            _CLEAN_TEXTS[text] = None
        return text
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_PLAIN_TYPES = frozenset({int, float, bool})


def redact_value(value: Any, key: str = "") -> Any:
    """A copy of a logged value (nested dicts and lists too) with its secrets redacted."""
    if value is None:
        return None
    if type(value) in _PLAIN_TYPES:  # the common case: ids, status codes, durations
        return REDACTED if key.lower() in SENSITIVE_NAME_SET else value
    if key.lower() in SENSITIVE_NAME_SET and value != "":
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


@contextmanager
def request_id_bound(request_id: str) -> Iterator[None]:
    """Attach ``request_id`` to every log line written inside the block (this thread only)."""
    token = current_request_id.set(request_id)
    try:
        yield
    finally:
        current_request_id.reset(token)


# Set on a record by RedactSecrets once its message and extras are redacted, so that
# JsonFormatter does not redact them a second time.
_REDACTED_MARK = "_framesell_redacted"

# What every LogRecord has; anything else on a record came from ``extra=`` and is logged.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None))
) | {"message", "asctime", "taskName", _REDACTED_MARK}


class RedactSecrets(logging.Filter):
    """Rewrites each record's message, extras and traceback with their secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place and let the record through."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format string: log it as written
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        record_fields = vars(record)
        for name in record_fields.keys() - _STANDARD_ATTRIBUTES:  # the extras
            setattr(record, name, redact_value(record_fields[name], name))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        setattr(record, _REDACTED_MARK, True)
        return True


_HEAD_TEXTS = ("level", "logger", "message", "request_id")
# One encoder for every line: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def log_time(created: float) -> str:
    """A record's time as JSON lines show it: UTC, milliseconds, ``Z``."""
    return (
        datetime.fromtimestamp(created, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def request_id_of(record: logging.LogRecord) -> str | None:
    """The id of the request a record was logged in: its own (a record made in one thread
    and written by another carries it) or the one being served by this thread."""
    request_id: str | None = record.__dict__.get("request_id")
    return request_id if request_id is not None else current_request_id.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON, secrets redacted."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        entry: dict[str, Any] = {
            "time": log_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        request_id = request_id_of(record)
        if request_id is not None:
            entry["request_id"] = request_id
        # Extras RedactSecrets has already redacted are not walked through a second time;
        # of the fields above, only the texts that can hold a secret are (the time holds
        # digits and "-:.TZ" only, and no key here is a secret's name).
        already_redacted = bool(getattr(record, _REDACTED_MARK, False))
        if already_redacted:
            for name in _HEAD_TEXTS:
                if name in entry:
                    entry[name] = redact(str(entry[name]))
        entry.update(
            {
                name: value
                for name, value in vars(record).items()
                if name not in _STANDARD_ATTRIBUTES and name not in entry
            }
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        if not already_redacted or "exception" in entry or "stack" in entry:
            entry = redact_value(entry)
        return _ENCODER.encode(entry)


class TextFormatter(logging.Formatter):
    """One readable line per record, for a developer's terminal (development.ini).

    The ini's ``format`` first (time, level, logger, message), then the record's extras as
    ``key=value`` (a request line's ``duration_ms``, ``user_id``; Stripe's request id) and the
    request id; secrets redacted as in the JSON lines.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as text, its extras appended, secrets redacted."""
        line = super().format(record)
        head, newline, rest = line.partition("\n")  # a traceback stays below the line
        extras = [
            f"{name}={value}"
            for name, value in vars(record).items()
            if name not in _STANDARD_ATTRIBUTES and value is not None
            and name not in {"method", "path", "status"}  # already in a request's message
            and name != "request_id"  # last, as for a line logged without one
        ]
        request_id = request_id_of(record)
        if request_id is not None:
            extras.append(f"request_id={request_id}")
        if extras:
            head = f"{head}  {' '.join(extras)}"
        return redact(head + newline + rest)


def install_secret_filter(logger: logging.Logger | None = None) -> None:
    """Put RedactSecrets on every handler of ``logger`` (the root logger by default), once."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())


class AccessLog:
    """The request log: one INFO line per request, written by one background thread.

    The request's thread only makes the record (no caller lookup) and queues it through a
    ``QueueHandler``; one ``QueueListener`` thread, shared by every AccessLog of the
    process, hands each record to its logger, whose filters, handlers and formatters
    (``JsonFormatter`` in the ini files) write it as any other line. A write per line under
    the handler's lock made the server's threads queue for that lock and for the GIL around
    each system call (bench/RESULTS.md); now only the listener writes. The record carries
    its request's id, so the line shows it though another thread formats it. Call
    ``flush_access_logs`` to have the queued lines written now.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def write(
        self, method: str, path: str, status: int, duration_ms: float, user_id: int | None
    ) -> None:
        """Log one request's line (INFO), with the current request id."""
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        extra: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "user_id": user_id,
        }
        request_id = current_request_id.get()
        if request_id is not None:
            extra["request_id"] = request_id
        record = logger.makeRecord(
            logger.name, logging.INFO, __file__, 0, "%s %s %s", (method, path, status), None,
            extra=extra,
        )  # fmt: skip
        _ACCESS_LINES.queue(record)


class _ToItsLogger(logging.Handler):
    """Hands a queued record to the logger that made it, on the listener's thread."""

    def handle(self, record: logging.LogRecord) -> bool:
        """Let the record's logger filter it and pass it to its handlers."""
        logging.getLogger(record.name).handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        """Unused: ``handle`` passes the record on."""


class _AsItIs(QueueHandler):
    """Queues a record unchanged: AccessLog's records hold only texts and numbers, which
    another thread may read as they are (the default ``prepare`` formats and copies)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """The record itself."""
        return record


class _AccessLines:
    """The queue of request log lines and the one listener thread that writes them."""

    def __init__(self) -> None:
        lines: SimpleQueue[logging.LogRecord] = SimpleQueue()
        self._handler = _AsItIs(lines)
        self._listener = QueueListener(lines, _ToItsLogger())
        self._started = False
        self._lock = threading.Lock()

    def queue(self, record: logging.LogRecord) -> None:
        """Queue a record for the listener, starting it with the first one."""
        if not self._started:
            self._start()
        self._handler.handle(record)

    def flush(self) -> None:
        """Write every record queued so far (the listener stops after them and restarts)."""
        with self._lock:
            if self._started:
                self._listener.stop()
                self._listener.start()

    def _start(self) -> None:
        with self._lock:
            if not self._started:
                self._listener.start()
                self._started = True
                atexit.register(self._stop)

    def _stop(self) -> None:
        """Write what is queued and end the listener (at exit: its thread is a daemon)."""
        with self._lock:
            if self._started:
                self._listener.stop()
                self._started = False


_ACCESS_LINES = _AccessLines()


def flush_access_logs() -> None:
    """Write the request log lines still waiting in the queue."""
    _ACCESS_LINES.flush()
