"""The LoginThrottle port over the login_failures table, shared by every app process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from framesell.adapters.sql.tables import login_failures, throttle_events
from framesell.adapters.sql.unit_of_work import is_write_conflict, storage_error
from framesell.application.errors import StorageUnavailable
from framesell.application.ports import ThrottleClaim
from framesell.application.transactions import PAUSE_SECONDS, TRIES, pause_jitter

# A lost or refused connection, a lock wait or deadlock: the caller may retry later.
_TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
T = TypeVar("T")


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Let no vendor error cross the port: an unreachable database is StorageUnavailable."""
    try:
        yield
    except _TRANSIENT as error:
        raise StorageUnavailable() from error


def _rerun_on_conflict(work: Callable[[], T]) -> T:
    """Run ``work`` (one transaction); rerun it after a write conflict, as use cases do.

    A deadlock, or on a Galera cluster a certification failure (two nodes deleting the same
    old rows), rolled the transaction back; any other failure is StorageUnavailable at once.
    """
    for number in range(1, TRIES + 1):
        try:
            return work()
        except _TRANSIENT as error:
            if number == TRIES or not is_write_conflict(error):
                raise storage_error(error) from error
        time.sleep(pause_jitter.uniform(0, PAUSE_SECONDS * 2**number))
    raise AssertionError("unreachable")  # the last try returned or raised


class SqlLoginThrottle:
    """Failed logins as rows of login_failures; each call is one short transaction of its own.

    It deliberately stays outside the unit of work: a failed login must be remembered even
    though the use case that saw it raises (and its unit of work rolls back).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def failures(self, keys: tuple[str, ...], *, since: datetime) -> dict[str, list[datetime]]:
        """Return each key's failure times after ``since``, oldest first."""
        found: dict[str, list[datetime]] = {key: [] for key in keys}
        if not keys:
            return found
        query = (
            sa.select(login_failures.c.throttle_key, login_failures.c.failed_at)
            .where(login_failures.c.throttle_key.in_(keys), login_failures.c.failed_at > since)
            .order_by(login_failures.c.failed_at, login_failures.c.id)
        )
        with _storage_errors(), self._engine.connect() as connection:
            for key, failed_at in connection.execute(query):
                found[key].append(failed_at)
        return found

    def record_failure(
        self, keys: tuple[str, ...], at: datetime, *, forget_before: datetime
    ) -> None:
        """Insert one row per key and delete every row older than the cutoff."""

        def write() -> None:
            with self._engine.begin() as connection:
                if keys:
                    connection.execute(
                        login_failures.insert(),
                        [{"throttle_key": k, "failed_at": at} for k in keys],
                    )
                connection.execute(
                    login_failures.delete().where(login_failures.c.failed_at < forget_before)
                )

        _rerun_on_conflict(write)

    def reset(self, key: str) -> None:
        """Delete one key's rows."""

        def write() -> None:
            with self._engine.begin() as connection:
                connection.execute(
                    login_failures.delete().where(login_failures.c.throttle_key == key)
                )

        _rerun_on_conflict(write)

    def claim(
        self,
        keys: tuple[str, ...],
        at: datetime,
        *,
        forget_before: datetime,
        wait: Callable[[dict[str, list[datetime]]], int],
    ) -> ThrottleClaim:
        """Record first, then read the keys' failures and undo the record if ``wait`` says so.

        On MySQL/MariaDB a named lock per key (``GET_LOCK``) makes each claim see every
        claim before it; SQLite lets one writer at a time hold the database from the INSERT
        to the commit, which does the same. On a Galera cluster the named locks are each
        node's own: claims made at the same moment on two nodes may both pass (see
        docs/scaling.md); a write conflict between them reruns the claim.
        """

        def write() -> ThrottleClaim:
            with (
                self._engine.connect() as connection,
                _named_locks(connection, keys),
                connection.begin(),
            ):
                return _claim(connection, keys, at, forget_before, wait)

        return _rerun_on_conflict(write)

    def release(self, claim: ThrottleClaim, *, forget: str | None = None) -> None:
        """Delete the rows the claim inserted, and every row of ``forget``: one DELETE."""
        conditions: list[sa.ColumnElement[bool]] = []
        if claim.recorded:
            conditions.append(login_failures.c.id.in_(claim.recorded))
        if forget is not None:
            conditions.append(login_failures.c.throttle_key == forget)
        if not conditions:
            return

        def write() -> None:
            with self._engine.begin() as connection:
                connection.execute(login_failures.delete().where(sa.or_(*conditions)))

        _rerun_on_conflict(write)


def _claim(
    connection: Connection,
    keys: tuple[str, ...],
    at: datetime,
    forget_before: datetime,
    wait: Callable[[dict[str, list[datetime]]], int],
) -> ThrottleClaim:
    inserted = [
        connection.execute(login_failures.insert().values(throttle_key=key, failed_at=at))
        for key in keys
    ]
    recorded: tuple[int, ...] = tuple(int(row.inserted_primary_key[0]) for row in inserted)  # type: ignore[index]
    found: dict[str, list[datetime]] = {key: [] for key in keys}
    query = (
        sa.select(login_failures.c.throttle_key, login_failures.c.failed_at)
        .where(
            login_failures.c.throttle_key.in_(keys),
            login_failures.c.failed_at > forget_before,
            login_failures.c.id.not_in(recorded),
        )
        .order_by(login_failures.c.failed_at, login_failures.c.id)
    )
    for key, failed_at in connection.execute(query):
        found[key].append(failed_at)
    retry_after = wait(found)
    if retry_after > 0:
        connection.execute(login_failures.delete().where(login_failures.c.id.in_(recorded)))
        recorded = ()
    connection.execute(login_failures.delete().where(login_failures.c.failed_at < forget_before))
    return ThrottleClaim(retry_after, recorded)


class SqlEventCounter:
    """Events as rows of throttle_events, shared by every app process on one database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def events(self, keys: tuple[str, ...], *, since: datetime) -> dict[str, list[datetime]]:
        """Return each key's event times after ``since``, oldest first."""
        found: dict[str, list[datetime]] = {key: [] for key in keys}
        if not keys:
            return found
        query = (
            sa.select(throttle_events.c.throttle_key, throttle_events.c.happened_at)
            .where(
                throttle_events.c.throttle_key.in_(keys),
                throttle_events.c.happened_at > since,
            )
            .order_by(throttle_events.c.happened_at, throttle_events.c.id)
        )
        with _storage_errors(), self._engine.connect() as connection:
            for key, happened_at in connection.execute(query):
                found[key].append(happened_at)
        return found

    def record(self, keys: tuple[str, ...], at: datetime, *, forget_before: datetime) -> None:
        """Insert one row per key and delete every row older than the cutoff."""

        def write() -> None:
            with self._engine.begin() as connection:
                if keys:
                    connection.execute(
                        throttle_events.insert(),
                        [{"throttle_key": key, "happened_at": at} for key in keys],
                    )
                connection.execute(
                    throttle_events.delete().where(throttle_events.c.happened_at < forget_before)
                )

        _rerun_on_conflict(write)


LOCK_WAIT_SECONDS = 10


@contextmanager
def _named_locks(connection: Connection, keys: tuple[str, ...]) -> Iterator[None]:
    """MySQL's session-level named locks on the keys, taken in order (no deadlock)."""
    if connection.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    names = [f"framesell-throttle-{key[:40]}" for key in sorted(set(keys))]
    taken: list[str] = []
    try:
        for name in names:
            got = connection.exec_driver_sql(
                "SELECT GET_LOCK(%s, %s)", (name, LOCK_WAIT_SECONDS)
            ).scalar()
            connection.commit()  # the lock is the session's; no transaction is kept open
            if got != 1:
                raise StorageUnavailable()
            taken.append(name)
        yield
    finally:
        for name in reversed(taken):
            connection.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (name,))
            connection.commit()
