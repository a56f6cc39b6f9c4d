"""Fixtures shared by every test layer; the fixture modules under tests/fixtures/ are plugins."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.fixtures.galera",
    "tests.fixtures.database",
    "tests.fixtures.stripe",
]


def missing_component(reason: str) -> None:
    """Skip on a laptop without a component; fail in CI, where everything must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run this test but {reason}", pytrace=False)
    pytest.skip(reason)
