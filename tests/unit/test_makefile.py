"""The Makefile: make run installs only what running needs, make test adds the test tools."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

from tests.conftest import missing_component

REPOSITORY = Path(__file__).resolve().parents[2]


def planned(*arguments: str, venv: Path) -> str:
    """What ``make -n`` would run, for a virtualenv that does not exist yet."""
    if shutil.which("make") is None:
        missing_component("make is not installed")
    done = subprocess.run(
        ["make", "-n", *arguments, f"VENV={venv}"],
        cwd=REPOSITORY, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def test_make_run_installs_the_shop_without_the_test_tools(tmp_path: Path) -> None:
    plan = planned("run", venv=tmp_path / "venv")

    assert "first run: setting up" in plan and "about a minute" in plan
    assert "pip install --quiet -e '.[dev]'" in plan
    assert "test]" not in plan
    assert "fakestripe.devrun --ini development.ini --port 8420\n" in plan


def test_make_test_adds_the_test_tools(tmp_path: Path) -> None:
    plan = planned("test", venv=tmp_path / "venv")

    assert plan.index("-e '.[dev]'") < plan.index("-e '.[dev,test]'") < plan.index("pytest\n")


def test_make_run_passes_the_fake_stripes_port_and_reload_on(tmp_path: Path) -> None:
    plan = planned("run", "FAKE_STRIPE_PORT=9000", "RELOAD=1", venv=tmp_path / "venv")

    assert "fakestripe.devrun --ini development.ini --port 9000 --reload" in plan


def test_the_run_extra_holds_no_test_tool() -> None:
    config = configparser.ConfigParser()
    config.read(REPOSITORY / "setup.cfg")
    extras = config["options.extras_require"]
    run = {line.split("=")[0].split(">")[0].strip() for line in extras["dev"].split() if line}
    tests = {line.split("=")[0].split(">")[0].strip() for line in extras["test"].split() if line}

    assert run == {"localstripe", "aiosmtpd"}  # the fake Stripe and the local SMTP server
    assert {"pytest", "playwright", "mypy", "ruff", "schemathesis"} <= tests
