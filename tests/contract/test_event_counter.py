"""The EventCounter contract (declined payments, sign-ups), run against memory, SQLite and MySQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from framesell.adapters.memory import MemoryEventCounter
from framesell.adapters.sql.engine import make_engine
from framesell.adapters.sql.throttle import SqlEventCounter
from framesell.application.ports import EventCounter
from tests.contract.helpers import T0, unique
from tests.fixtures.database import STORAGE_ADAPTERS

HOUR = timedelta(hours=1)


def a_key() -> str:
    return hashlib.sha256(unique().encode()).hexdigest()


@pytest.fixture(params=STORAGE_ADAPTERS)
def counter(request: pytest.FixtureRequest) -> Iterator[EventCounter]:
    """An EventCounter over empty storage, once per adapter."""
    if request.param == "memory":
        yield MemoryEventCounter()
        return
    engine = make_engine(request.getfixturevalue(f"{request.param}_url"))
    yield SqlEventCounter(engine)
    engine.dispose()


def test_a_key_without_events_has_an_empty_list(counter: EventCounter) -> None:
    key = a_key()
    assert counter.events((key,), since=T0 - HOUR) == {key: []}


def test_events_read_back_oldest_first_per_key_with_microseconds(counter: EventCounter) -> None:
    shopper, address, other = a_key(), a_key(), a_key()
    times = [T0 + timedelta(seconds=3, microseconds=7), T0]
    for at in times:
        counter.record((shopper, address), at, forget_before=T0 - HOUR)
    assert counter.events((shopper, address, other), since=T0 - HOUR) == {
        shopper: sorted(times),
        address: sorted(times),
        other: [],
    }


def test_only_events_after_since_are_returned(counter: EventCounter) -> None:
    key = a_key()
    for minutes in (0, 10, 20):
        counter.record((key,), T0 + timedelta(minutes=minutes), forget_before=T0 - HOUR)
    assert counter.events((key,), since=T0 + timedelta(minutes=10)) == {
        key: [T0 + timedelta(minutes=20)]
    }


def test_recording_forgets_every_keys_events_before_the_cutoff(counter: EventCounter) -> None:
    old, recent = a_key(), a_key()
    counter.record((old,), T0, forget_before=T0 - HOUR)
    counter.record((recent,), T0 + HOUR * 2, forget_before=T0 + HOUR)
    assert counter.events((old, recent), since=T0 - HOUR * 10) == {
        old: [],
        recent: [T0 + HOUR * 2],
    }


def test_events_are_shared_by_every_process_on_one_database(sql_engine: Engine) -> None:
    key = a_key()
    SqlEventCounter(sql_engine).record((key,), T0, forget_before=T0 - HOUR)
    other_engine = make_engine(sql_engine.url)
    try:
        assert SqlEventCounter(other_engine).events((key,), since=T0 - HOUR) == {key: [T0]}
    finally:
        other_engine.dispose()
