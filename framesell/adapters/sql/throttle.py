"""The LoginThrottle port over the login_failures table, shared by every app process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from framesell.adapters.sql.tables import login_failures
from framesell.adapters.sql.unit_of_work import is_write_conflict, storage_error
from framesell.application.transactions import PAUSE_SECONDS, TRIES, pause_jitter
from framesell.domain.errors import StorageUnavailable

# A lost or refused connection, a lock wait or deadlock: the caller may retry later.
_TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Let no vendor error cross the port: an unreachable database is StorageUnavailable."""
    try:
        yield
    except _TRANSIENT as error:
        raise StorageUnavailable() from error


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

        def write(connection: Connection) -> None:
            if keys:
                connection.execute(
                    login_failures.insert(), [{"throttle_key": k, "failed_at": at} for k in keys]
                )
            connection.execute(
                login_failures.delete().where(login_failures.c.failed_at < forget_before)
            )

        self._transaction(write)

    def reset(self, key: str) -> None:
        """Delete one key's rows."""
        self._transaction(
            lambda connection: connection.execute(
                login_failures.delete().where(login_failures.c.throttle_key == key)
            )
        )

    def _transaction(self, work: Callable[[Connection], object]) -> None:
        """Run ``work`` in a transaction; rerun it after a write conflict, as use cases do."""
        for number in range(1, TRIES + 1):
            try:
                with self._engine.begin() as connection:
                    work(connection)
                return
            except _TRANSIENT as error:
                if number == TRIES or not is_write_conflict(error):
                    raise storage_error(error) from error
            time.sleep(pause_jitter.uniform(0, PAUSE_SECONDS * 2**number))
