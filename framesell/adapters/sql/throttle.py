"""The LoginThrottle port over the login_failures table, shared by every app process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
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
            with self._engine.connect() as connection:
                taken = _take_named_locks(connection, keys)
                try:
                    claim = _claim(connection, keys, at, forget_before, wait)
                    connection.commit()
                finally:
                    _release_named_locks(connection, taken)
                return claim

        return _rerun_on_conflict(write)

    def release(self, claim: ThrottleClaim, *, forget: str | None = None) -> None:
        """Delete the rows the claim inserted, and every row of ``forget``: one DELETE."""
        if claim.recorded and forget is not None:
            statement, params = _RELEASE_AND_FORGET, {"ids": claim.recorded, "forget": forget}
        elif claim.recorded:
            statement, params = _RELEASE, {"ids": claim.recorded}
        elif forget is not None:
            statement, params = _FORGET, {"forget": forget}
        else:
            return

        def write() -> None:
            with self._engine.begin() as connection:
                connection.execute(statement, params)

        _rerun_on_conflict(write)


# A login's statements, built once (SQLAlchemy's coercion and cache-key work was a third of
# the claim's time when they were built per call). The keys' rows come back in one INSERT
# with RETURNING (SQLite ≥ 3.35, MariaDB ≥ 10.5).
_RECORD = login_failures.insert().returning(login_failures.c.id)
_EARLIER_FAILURES = (
    sa.select(login_failures.c.throttle_key, login_failures.c.failed_at)
    .where(
        login_failures.c.throttle_key.in_(sa.bindparam("keys", expanding=True)),
        login_failures.c.failed_at > sa.bindparam("since"),
        login_failures.c.id.not_in(sa.bindparam("ids", expanding=True)),
    )
    .order_by(login_failures.c.failed_at, login_failures.c.id)
)
_FORGET_OLD = login_failures.delete().where(login_failures.c.failed_at < sa.bindparam("before"))
_UNDO_AND_FORGET_OLD = login_failures.delete().where(
    sa.or_(
        login_failures.c.id.in_(sa.bindparam("ids", expanding=True)),
        login_failures.c.failed_at < sa.bindparam("before"),
    )
)
_RELEASE = login_failures.delete().where(
    login_failures.c.id.in_(sa.bindparam("ids", expanding=True))
)
_FORGET = login_failures.delete().where(login_failures.c.throttle_key == sa.bindparam("forget"))
_RELEASE_AND_FORGET = login_failures.delete().where(
    sa.or_(
        login_failures.c.id.in_(sa.bindparam("ids", expanding=True)),
        login_failures.c.throttle_key == sa.bindparam("forget"),
    )
)


_EVENTS_SINCE = (
    sa.select(throttle_events.c.throttle_key, throttle_events.c.happened_at)
    .where(
        throttle_events.c.throttle_key.in_(sa.bindparam("keys", expanding=True)),
        throttle_events.c.happened_at > sa.bindparam("since"),
    )
    .order_by(throttle_events.c.happened_at, throttle_events.c.id)
)


def _claim(
    connection: Connection,
    keys: tuple[str, ...],
    at: datetime,
    forget_before: datetime,
    wait: Callable[[dict[str, list[datetime]]], int],
) -> ThrottleClaim:
    recorded: tuple[int, ...] = ()
    if keys:
        rows = connection.execute(_RECORD, [{"throttle_key": k, "failed_at": at} for k in keys])
        recorded = tuple(int(row[0]) for row in rows)
    found: dict[str, list[datetime]] = {key: [] for key in keys}
    earlier = connection.execute(
        _EARLIER_FAILURES, {"keys": keys, "since": forget_before, "ids": recorded}
    )
    for key, failed_at in earlier:
        found[key].append(failed_at)
    retry_after = wait(found)
    if retry_after > 0:
        # Refused: the attempt is not counted, and old rows go in the same statement.
        connection.execute(_UNDO_AND_FORGET_OLD, {"ids": recorded, "before": forget_before})
        recorded = ()
    else:
        connection.execute(_FORGET_OLD, {"before": forget_before})
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
        with _storage_errors(), self._engine.connect() as connection:
            found_rows = connection.execute(_EVENTS_SINCE, {"keys": keys, "since": since})
            for key, happened_at in found_rows:
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


def _take_named_locks(connection: Connection, keys: tuple[str, ...]) -> list[str]:
    """MySQL's session-level named locks on the keys, all in one statement; the names taken.

    Left to right, in sorted order, so two claims never wait on each other in a circle (if
    the server ever evaluated them otherwise, its deadlock error reruns the claim). Nothing
    on SQLite, whose one writer at a time does the same. StorageUnavailable, with whatever
    was taken given back, if a lock could not be had within LOCK_WAIT_SECONDS.
    """
    if connection.dialect.name not in ("mysql", "mariadb") or not keys:
        return []
    names = [f"framesell-throttle-{key[:40]}" for key in sorted(set(keys))]
    calls = ", ".join("GET_LOCK(%s, %s)" for _ in names)
    arguments = tuple(value for name in names for value in (name, LOCK_WAIT_SECONDS))
    got = connection.exec_driver_sql(f"SELECT {calls}", arguments).one()
    taken = [name for name, result in zip(names, got, strict=True) if result == 1]
    if len(taken) != len(names):
        _release_named_locks(connection, taken)
        raise StorageUnavailable()
    return taken


def _release_named_locks(connection: Connection, names: list[str]) -> None:
    """Give the named locks back in one statement (after the claim's commit).

    A connection that died has lost its locks with its session; that is not an error here.
    """
    if not names:
        return
    calls = ", ".join("RELEASE_LOCK(%s)" for _ in names)
    with suppress(*_TRANSIENT):
        connection.exec_driver_sql(f"SELECT {calls}", tuple(reversed(names)))
