"""The LoginThrottle contract, run against every adapter: memory, SQLite and MySQL."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import timedelta

import pymysql
import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from framesell.adapters.memory import MemoryLoginThrottle
from framesell.adapters.sql.engine import make_engine
from framesell.adapters.sql.throttle import SqlEventCounter, SqlLoginThrottle
from framesell.application.errors import StorageUnavailable
from framesell.application.ports import LoginThrottle
from tests.contract.helpers import T0, unique
from tests.contract.racing import race
from tests.fixtures.database import STORAGE_ADAPTERS

DAY = timedelta(hours=24)


def a_key() -> str:
    """A unique key shaped like the digests the user service uses (64 hex characters)."""
    return hashlib.sha256(unique().encode()).hexdigest()


@pytest.fixture(params=STORAGE_ADAPTERS)
def throttle(request: pytest.FixtureRequest) -> Iterator[LoginThrottle]:
    """A LoginThrottle over empty storage, once per adapter."""
    if request.param == "memory":
        yield MemoryLoginThrottle()
        return
    engine = make_engine(request.getfixturevalue(f"{request.param}_url"))
    yield SqlLoginThrottle(engine)
    engine.dispose()


def test_a_key_without_failures_has_an_empty_list(throttle: LoginThrottle) -> None:
    key = a_key()
    assert throttle.failures((key,), since=T0 - DAY) == {key: []}


def test_failures_read_back_oldest_first_with_microseconds(throttle: LoginThrottle) -> None:
    key = a_key()
    times = [T0 + timedelta(seconds=3, microseconds=7), T0, T0 + timedelta(seconds=1)]
    for at in times:
        throttle.record_failure((key,), at, forget_before=T0 - DAY)
    assert throttle.failures((key,), since=T0 - DAY) == {key: sorted(times)}


def test_one_failure_counts_for_every_key_it_names(throttle: LoginThrottle) -> None:
    email, address, other = a_key(), a_key(), a_key()
    throttle.record_failure((email, address), T0, forget_before=T0 - DAY)
    assert throttle.failures((email, address, other), since=T0 - DAY) == {
        email: [T0],
        address: [T0],
        other: [],
    }


def test_only_failures_after_since_are_returned(throttle: LoginThrottle) -> None:
    key = a_key()
    for minutes in (0, 10, 20):
        throttle.record_failure((key,), T0 + timedelta(minutes=minutes), forget_before=T0 - DAY)
    found = throttle.failures((key,), since=T0 + timedelta(minutes=10))
    assert found == {key: [T0 + timedelta(minutes=20)]}


def test_a_failure_forgets_every_keys_failures_before_the_cutoff(throttle: LoginThrottle) -> None:
    old, recent = a_key(), a_key()
    throttle.record_failure((old,), T0, forget_before=T0 - DAY)
    throttle.record_failure((recent,), T0 + DAY, forget_before=T0 - DAY)
    throttle.record_failure((recent,), T0 + DAY * 2, forget_before=T0 + DAY)
    found = throttle.failures((old, recent), since=T0 - DAY * 10)
    assert found == {old: [], recent: [T0 + DAY, T0 + DAY * 2]}


def test_a_reset_forgets_one_key_and_keeps_the_others(throttle: LoginThrottle) -> None:
    email, address = a_key(), a_key()
    throttle.record_failure((email, address), T0, forget_before=T0 - DAY)
    throttle.reset(email)
    assert throttle.failures((email, address), since=T0 - DAY) == {email: [], address: [T0]}


def test_resetting_an_unknown_key_is_harmless(throttle: LoginThrottle) -> None:
    unknown, other = a_key(), a_key()
    throttle.record_failure((other,), T0, forget_before=T0 - DAY)
    throttle.reset(unknown)
    assert throttle.failures((unknown, other), since=T0 - DAY) == {unknown: [], other: [T0]}


def test_failures_are_shared_by_every_process_on_one_database(sql_engine: Engine) -> None:
    key = a_key()
    SqlLoginThrottle(sql_engine).record_failure((key,), T0, forget_before=T0 - DAY)
    other_engine = make_engine(sql_engine.url)  # its own pool, as another process would have
    try:
        assert SqlLoginThrottle(other_engine).failures((key,), since=T0 - DAY) == {key: [T0]}
    finally:
        other_engine.dispose()


def never_wait(failures: dict[str, list]) -> int:
    return 0


def test_a_claim_records_one_failure_per_key_before_the_password_is_checked(
    throttle: LoginThrottle,
) -> None:
    email, address = a_key(), a_key()
    claim = throttle.claim((email, address), T0, forget_before=T0 - DAY, wait=never_wait)
    assert claim.retry_after_seconds == 0
    assert throttle.failures((email, address), since=T0 - DAY) == {email: [T0], address: [T0]}


def test_a_claim_shows_wait_every_earlier_failure_and_records_nothing_when_refused(
    throttle: LoginThrottle,
) -> None:
    key = a_key()
    throttle.record_failure((key,), T0, forget_before=T0 - DAY)
    seen: list[dict[str, list]] = []

    def refuse(failures: dict[str, list]) -> int:
        seen.append(failures)
        return 42

    claim = throttle.claim((key,), T0 + timedelta(seconds=1), forget_before=T0 - DAY, wait=refuse)
    assert claim.retry_after_seconds == 42
    assert seen == [{key: [T0]}]
    assert throttle.failures((key,), since=T0 - DAY) == {key: [T0]}


def test_releasing_a_claim_forgets_only_its_own_failures(throttle: LoginThrottle) -> None:
    email, address = a_key(), a_key()
    throttle.record_failure((email, address), T0, forget_before=T0 - DAY)
    claim = throttle.claim((email, address), T0, forget_before=T0 - DAY, wait=never_wait)
    throttle.release(claim)
    assert throttle.failures((email, address), since=T0 - DAY) == {email: [T0], address: [T0]}


def test_releasing_a_claim_can_forget_one_keys_failures_as_reset_does(
    throttle: LoginThrottle,
) -> None:
    email, address, other = a_key(), a_key(), a_key()
    throttle.record_failure((email, address, other), T0, forget_before=T0 - DAY)
    at = T0 + timedelta(seconds=1)
    claim = throttle.claim((email, address), at, forget_before=T0 - DAY, wait=never_wait)
    throttle.release(claim, forget=email)
    assert throttle.failures((email, address, other), since=T0 - DAY) == {
        email: [],
        address: [T0],
        other: [T0],
    }


def test_parallel_claims_get_no_more_tries_than_serial_ones(throttle: LoginThrottle) -> None:
    key, limit = a_key(), 5

    def at_most_five(failures: dict[str, list]) -> int:
        return 60 if len(failures[key]) >= limit else 0

    def guess(start: Callable[[], None]) -> int:
        start()
        claim = throttle.claim((key,), T0, forget_before=T0 - DAY, wait=at_most_five)
        return claim.retry_after_seconds

    answers = race(12, guess)
    assert sorted(answers) == [0] * limit + [60] * (12 - limit)
    assert len(throttle.failures((key,), since=T0 - DAY)[key]) == limit


def test_every_throttle_write_that_loses_to_a_conflict_is_rerun(sql_engine: Engine) -> None:
    """Each write's first DELETE fails as a deadlock or a Galera certification failure does."""
    losses: list[str] = []

    @sa.event.listens_for(sql_engine, "before_cursor_execute")
    def lose_every_other_delete(conn, cursor, statement, parameters, context, many):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("DELETE"):
            losses.append(statement)
            if len(losses) % 2 == 1:
                deadlock = pymysql.err.OperationalError(1213, "Deadlock found")
                raise sa_exc.OperationalError(statement, parameters, deadlock)

    throttle, counter = SqlLoginThrottle(sql_engine), SqlEventCounter(sql_engine)
    key = a_key()
    throttle.record_failure((key,), T0, forget_before=T0 - DAY)
    claim = throttle.claim((key,), T0, forget_before=T0 - DAY, wait=never_wait)
    assert throttle.failures((key,), since=T0 - DAY) == {key: [T0, T0]}
    throttle.release(claim)
    counter.record((key,), T0, forget_before=T0 - DAY)
    throttle.reset(key)

    assert len(losses) == 10  # five writes, each of them lost once and then rerun
    assert throttle.failures((key,), since=T0 - DAY) == {key: []}
    assert counter.events((key,), since=T0 - DAY) == {key: [T0]}


def test_a_claim_is_its_few_statements_and_one_commit(sql_engine: Engine) -> None:
    """Record both keys in one INSERT, read, forget old rows; on MySQL one statement takes
    the named locks and one gives them back."""
    sent: list[str] = []

    @sa.event.listens_for(sql_engine, "before_cursor_execute")
    def note(conn, cursor, statement, parameters, context, many):  # type: ignore[no-untyped-def]
        sent.append(statement.split()[0].upper() + " " + statement.split()[1].upper())

    throttle = SqlLoginThrottle(sql_engine)
    keys = (a_key(), a_key())
    claim = throttle.claim(keys, T0, forget_before=T0 - DAY, wait=never_wait)
    assert len(claim.recorded) == 2
    assert throttle.failures(keys, since=T0 - DAY) == {keys[0]: [T0], keys[1]: [T0]}
    core = ["INSERT INTO", "SELECT LOGIN_FAILURES.THROTTLE_KEY,", "DELETE FROM"]
    locks = ["SELECT GET_LOCK(%S,"] if sql_engine.dialect.name != "sqlite" else []
    unlocks = ["SELECT RELEASE_LOCK(%S),"] if sql_engine.dialect.name != "sqlite" else []
    assert sent[: len(locks) + 3 + len(unlocks)] == [*locks, *core, *unlocks]


@pytest.mark.mysql
def test_a_claim_that_cannot_have_every_lock_gives_back_those_it_took(
    mysql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from framesell.adapters.sql import throttle as sql_throttle

    monkeypatch.setattr(sql_throttle, "LOCK_WAIT_SECONDS", 0)
    engine = make_engine(mysql_url)
    first, second = sorted((a_key(), a_key()))
    try:
        with engine.connect() as holder:  # another process is in the middle of a claim
            held = holder.exec_driver_sql(
                "SELECT GET_LOCK(%s, 0)", (f"framesell-throttle-{second[:40]}",)
            ).scalar()
            assert held == 1
            with pytest.raises(StorageUnavailable):
                SqlLoginThrottle(engine).claim(
                    (first, second), T0, forget_before=T0 - DAY, wait=never_wait
                )
            with engine.connect() as other:
                free = other.exec_driver_sql(
                    "SELECT IS_FREE_LOCK(%s)", (f"framesell-throttle-{first[:40]}",)
                ).scalar()
        assert free == 1  # the lock it did get was given back
        assert SqlLoginThrottle(engine).failures((first, second), since=T0 - DAY) == {
            first: [],
            second: [],
        }
    finally:
        engine.dispose()
