"""The pserve runner hands waitress FrameSell's proxy-header and body-size settings."""

from __future__ import annotations

from typing import Any

import pytest

from framesell.entrypoints import server
from framesell.entrypoints.http.tweens import MAX_BODY_BYTES


def served_with(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(server.waitress, "serve", lambda app, **kwargs: seen.update(kwargs))
    monkeypatch.delenv("FRAMESELL_PORT", raising=False)
    server.run(object(), {}, **settings)
    return seen


def test_waitress_keeps_the_proxy_headers_for_the_app_to_judge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = served_with(monkeypatch, host="127.0.0.1", port="6543", threads="4")
    assert seen == {
        "host": "127.0.0.1",
        "port": 6543,
        "threads": 4,
        "clear_untrusted_proxy_headers": False,
        "max_request_body_size": MAX_BODY_BYTES,
    }


def test_the_ini_may_still_choose_waitress_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = served_with(monkeypatch, port="1", clear_untrusted_proxy_headers="true")
    assert seen["clear_untrusted_proxy_headers"] == "true"


def test_framesell_port_overrides_the_ini(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(server.waitress, "serve", lambda app, **kwargs: seen.update(kwargs))
    monkeypatch.setenv("FRAMESELL_PORT", "7000")
    server.run(object(), {}, port="6543")
    assert seen["port"] == 7000
