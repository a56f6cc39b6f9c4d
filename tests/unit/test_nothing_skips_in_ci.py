"""The skip rule: in CI a skip, an xfail or a skipped module fails the run; on a laptop not."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
from tests.conftest import (  # noqa: F401 - the hooks under test
    pytest_make_collect_report,
    pytest_runtest_makereport,
)
"""
TESTS = """
import pytest
from tests.conftest import missing_component

def test_runs():
    assert True

def test_skips():
    pytest.skip("no time today")

@pytest.mark.skip(reason="marked")
def test_marked_skip():
    pass

@pytest.mark.xfail(reason="known bug")
def test_xfails():
    assert False

def test_misses_a_component():
    missing_component("no MariaDB here")
"""
MODULE_SKIP = """
from tests.conftest import missing_component

missing_component("no Playwright here")

def test_never_collected():
    pass
"""
XPASS = """
import pytest

@pytest.mark.xfail(reason="stale")
def test_passes_after_all():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_many=TESTS, test_module_skip=MODULE_SKIP)
    return pytester


@pytest.mark.parametrize("value", ["true", "True", "1", "yes", "on", "github-actions"])
def test_in_ci_every_skip_and_xfail_fails_the_run(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    # (A module that fails its collection stops a run; here the rest runs too, to be seen.)
    result = suite.runpytest("-p", "no:cacheprovider", "--continue-on-collection-errors")
    # A skip marker acts at setup, so that test is an error rather than a failure.
    result.assert_outcomes(passed=1, failed=3, errors=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*skipped in CI (Skipped: no time today)*"])
    result.stdout.fnmatch_lines(["*xfailed in CI (known bug)*"])
    result.stdout.fnmatch_lines(["*CI must run this test but no MariaDB here*"])
    result.stdout.fnmatch_lines(["*CI must run this test but no Playwright here*"])


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_on_a_laptop_missing_components_skip_and_the_run_passes(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=4, xfailed=1)
    assert result.ret == pytest.ExitCode.OK


def test_an_allow_listed_skip_is_allowed_in_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makeconftest(
        CONFTEST
        + "\nimport tests.conftest\n"
        + "tests.conftest.ALLOWED_TO_SKIP_IN_CI['test_many.py::test_skips'] = 'reason'\n"
    )
    pytester.makepyfile(test_many="import pytest\ndef test_skips():\n    pytest.skip('ok')\n")
    try:
        result = pytester.runpytest("-p", "no:cacheprovider")
    finally:
        import tests.conftest

        tests.conftest.ALLOWED_TO_SKIP_IN_CI.clear()
    result.assert_outcomes(skipped=1)


def test_the_allow_list_is_empty_and_xfail_is_strict(pytestconfig: pytest.Config) -> None:
    from tests.conftest import ALLOWED_TO_SKIP_IN_CI

    assert ALLOWED_TO_SKIP_IN_CI == {}
    assert pytestconfig.getini("xfail_strict") is True


def test_a_passing_xfail_fails_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "")
    pytester.makepyfile(test_xpass=XPASS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-o", "xfail_strict=true")
    result.assert_outcomes(failed=1)
