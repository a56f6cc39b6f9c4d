"""Fixtures shared by every test layer; the fixture modules under tests/fixtures/ are plugins.

In CI nothing may skip: a skipped or xfailed test (or a skipped module) is turned into a
failure unless its node id is on ``ALLOWED_TO_SKIP_IN_CI``, which is empty and should stay so.
"""

from __future__ import annotations

import os
from collections.abc import Generator
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
