"""make run's launcher: pserve with --reload only when asked, pointed at the fake Stripe."""

from __future__ import annotations

from typing import Any

import pytest

from fakestripe import devrun


class Started:
    """Stands in for the fake Stripe and for pserve: records, never starts anything."""

    url = "http://127.0.0.1:9000"

    def __init__(self) -> None:
        self.commands: list[list[str]] = []
        self.environments: list[dict[str, str]] = []

    def popen(self, command: list[str], env: dict[str, str]) -> Any:
        self.commands.append(command)
        self.environments.append(env)
        return self

    def wait(self) -> int:
        return 0

    def poll(self) -> int:
        return 0

    def stop(self) -> None:
        pass

    def start(self) -> Started:
        return self


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Started:
    record = Started()
    monkeypatch.setattr(devrun, "start_fake_stripe", lambda *a, **k: record)
    monkeypatch.setattr(devrun, "register_webhook", lambda *a, **k: None)
    monkeypatch.setattr(
        devrun, "_ini_setting", lambda ini, key: "8025" if key.endswith("port") else "whsec_x"
    )
    monkeypatch.setattr(devrun.subprocess, "Popen", record.popen)
    monkeypatch.setattr(devrun, "DevMailServer", lambda *a, **k: record)
    for variable in ("FRAMESELL_STRIPE_API_BASE", "FRAMESELL_STRIPE_JS_URL"):
        monkeypatch.delenv(variable, raising=False)
    return record


def test_reload_is_passed_to_pserve_only_when_asked(started: Started) -> None:
    assert devrun.main(["--ini", "development.ini", "--port", "9000"]) == 0
    assert devrun.main(["--ini", "development.ini", "--port", "9000", "--reload"]) == 0

    assert [c[-2:] for c in started.commands] == [
        ["pyramid.scripts.pserve", "development.ini"],
        ["--reload", "development.ini"],
    ]


def test_the_shop_is_pointed_at_the_fake_stripes_api_and_stripe_js(started: Started) -> None:
    devrun.main(["--port", "9000"])

    (env,) = started.environments
    assert env["FRAMESELL_STRIPE_API_BASE"] == "http://127.0.0.1:9000"
    assert env["FRAMESELL_STRIPE_JS_URL"] == "http://127.0.0.1:9000/js.stripe.com/v3/"
