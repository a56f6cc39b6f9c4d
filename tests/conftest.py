"""Fixtures shared by every test layer; the fixture modules under tests/fixtures/ are plugins.

In CI nothing may skip: a skipped or xfailed test (or a skipped module) is turned into a
failure unless its node id is on ``ALLOWED_TO_SKIP_IN_CI``, which is empty and should stay so.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Iterator
from typing import Any

import pytest

pytest_plugins = [
    "tests.fixtures.galera",
    "tests.fixtures.database",
    "tests.fixtures.stripe",
]

# Node ids (or their prefixes) that may skip or xfail even in CI, each with its reason.
ALLOWED_TO_SKIP_IN_CI: dict[str, str] = {}
# What CI services set CI to is not only "true": GitHub says "true", others "1" or "yes".
NOT_CI = {"", "0", "false", "no", "off", "n"}


def running_in_ci() -> bool:
    """Whether the ``CI`` environment variable is set to anything truthy."""
    return os.environ.get("CI", "").strip().lower() not in NOT_CI


def missing_component(reason: str) -> None:
    """Skip on a laptop without a component; fail in CI, where everything must run."""
    if running_in_ci():
        pytest.fail(f"CI must run this test but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def _allowed(nodeid: str) -> bool:
    return any(nodeid.startswith(allowed) for allowed in ALLOWED_TO_SKIP_IN_CI)


def _failure_text(report: Any, what: str) -> str:
    reason = getattr(report, "wasxfail", "") or _skip_reason(report)
    return (
        f"{what} in CI ({reason}): in CI every test must run; fix the cause or add the "
        "node id to ALLOWED_TO_SKIP_IN_CI in tests/conftest.py with a reason"
    )


def _skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[
    None, pytest.TestReport, pytest.TestReport
]:
    """In CI, a skipped or xfailed test is reported as failed."""
    report = yield
    if report.skipped and running_in_ci() and not _allowed(item.nodeid):
        what = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        report.longrepr = _failure_text(report, what)
        report.outcome = "failed"
        if hasattr(report, "wasxfail"):
            del report.wasxfail
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[
    None, pytest.CollectReport, pytest.CollectReport
]:
    """In CI, a module that skips itself (``allow_module_level``) fails its collection."""
    report = yield
    if report.skipped and running_in_ci() and not _allowed(collector.nodeid):
        report.longrepr = _failure_text(report, "skipped module")
        report.outcome = "failed"
    return report


def _own_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """A logger's handlers, without pytest's own capturing ones (pytest adds and removes them)."""
    return [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]


def _every_logger() -> list[logging.Logger]:
    """The root logger and every logger made so far (placeholders left out)."""
    made = logging.Logger.manager.loggerDict.values()
    return [logging.getLogger()] + [logger for logger in made if isinstance(logger, logging.Logger)]


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """Put the logging configuration back after each test.

    A test may load an ini file's logging sections (a command run in-process calls Pyramid's
    ``setup_logging``: new root handlers, other loggers disabled) or put the redacting filter,
    which rewrites each record in place, on pytest's own capturing handler. Left behind, either
    changes what later tests' ``caplog`` sees (a message already formatted, or no record).
    """
    loggers = _every_logger()
    saved = {
        id(logger): (logger.level, _own_handlers(logger), logger.propagate, logger.disabled)
        for logger in loggers
    }
    # pytest's capturing handlers live as long as the session: a test that adds a filter to
    # ``caplog.handler`` would leave it there for every later test.
    filters = {id(h): (h, list(h.filters)) for logger in loggers for h in logger.handlers}
    yield
    for handler, kept in filters.values():
        handler.filters[:] = kept
    for logger in _every_logger():
        default = (logging.NOTSET, [], True, False)
        level, handlers, propagate, disabled = saved.get(id(logger), default)
        for handler in _own_handlers(logger):
            if handler not in handlers:
                logger.removeHandler(handler)
        for handler in handlers:
            if handler not in logger.handlers:
                logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled
