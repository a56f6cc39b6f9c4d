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
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
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


def log_time(created: float) -> str:
    """A record's time as JSON lines show it: UTC, milliseconds, ``Z``."""
    return (
        datetime.fromtimestamp(created, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


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
        request_id = current_request_id.get()
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
        return json.dumps(entry, ensure_ascii=False, default=str)


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
        ]
        request_id = current_request_id.get()
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
    """The request log: one line per request, as JsonFormatter writes it, without its cost.

    Through ``logging`` a request line costs a LogRecord, the caller lookup, the redaction
    filter and the formatter's walk over the record: a large share of a cached catalog
    request (bench/RESULTS.md). When every handler the line would reach is a plain
    StreamHandler with JsonFormatter (and RedactSecrets or no filter), as the ini files
    configure it, the line is built here from its few known fields, redacted as the filter
    would: the same JSON. Such lines are written in batches, at most ``BATCH_SECONDS``
    after the request, like nginx's ``access_log … buffer= flush=``: a write per line under
    the handler's lock made the server's threads queue for that lock and for the GIL around
    each system call (bench/RESULTS.md). Call ``flush_access_logs`` to have them written
    now. Any other set-up (another formatter or handler class, a filter on a logger) gets
    an ordinary, immediate ``logger.info``.
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
        handlers = self._json_stream_handlers()
        if handlers is None:
            logger.info(
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "user_id": user_id,
                },
            )
            return
        method, path = redact(method), redact(path)
        entry: dict[str, Any] = {
            "time": log_time(time.time()),
            "level": "INFO",
            "logger": logger.name,
            "message": redact(f"{method} {path} {status}"),
        }
        request_id = current_request_id.get()
        if request_id is not None:
            entry["request_id"] = redact(request_id)
        entry["method"] = method
        entry["path"] = path
        entry["status"] = status
        entry["duration_ms"] = duration_ms
        entry["user_id"] = user_id
        line = json.dumps(entry, ensure_ascii=False, default=str)
        for handler in handlers:
            _BATCHES.add(handler, line + handler.terminator)

    def _json_stream_handlers(self) -> list[logging.StreamHandler[Any]] | None:
        """The handlers an INFO line reaches, if all are JSON stream handlers; else None."""
        found: list[logging.StreamHandler[Any]] = []
        current: logging.Logger | None = self.logger
        while current is not None:
            if current.filters:
                return None
            for handler in current.handlers:
                if handler.level > logging.INFO:
                    continue
                if (
                    type(handler) is not logging.StreamHandler
                    or type(handler.formatter) is not JsonFormatter
                    or any(type(f) is not RedactSecrets for f in handler.filters)
                ):
                    return None
                found.append(handler)
            current = current.parent if current.propagate else None
        return found


BATCH_SECONDS = 0.05


class _Batches:
    """Lines waiting for their stream handlers, written by one background thread."""

    def __init__(self) -> None:
        self._pending: deque[tuple[logging.StreamHandler[Any], str]] = deque()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def add(self, handler: logging.StreamHandler[Any], line: str) -> None:
        """Queue a line (appending to a deque takes no lock the threads could queue for)."""
        self._pending.append((handler, line))
        if self._writer is None:
            self._start()

    def flush(self) -> None:
        """Write every queued line, each handler's lines in one write, in order."""
        by_handler: dict[logging.StreamHandler[Any], list[str]] = {}
        pending = self._pending
        while pending:
            try:
                handler, line = pending.popleft()
            except IndexError:  # another flush took the last one
                break
            by_handler.setdefault(handler, []).append(line)
        for handler, lines in by_handler.items():
            handler.acquire()
            try:
                handler.stream.write("".join(lines))
                handler.flush()
            except Exception:  # as StreamHandler.emit does: reported, never raised
                handler.handleError(logging.makeLogRecord({"msg": lines[0]}))
            finally:
                handler.release()

    def _start(self) -> None:
        with self._start_lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_forever, name="framesell-access-log", daemon=True
                )
                self._writer.start()
                atexit.register(self.flush)

    def _write_forever(self) -> None:
        while True:
            time.sleep(BATCH_SECONDS)
            self.flush()


_BATCHES = _Batches()


def flush_access_logs() -> None:
    """Write the request log lines still waiting for their batch."""
    _BATCHES.flush()
