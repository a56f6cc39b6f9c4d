"""The UnitOfWork port over one SQLAlchemy connection and its transaction."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from framesell.adapters.clock import SystemClock
from framesell.adapters.sql.repositories import (
    SqlOrderRepository,
    SqlOutbox,
    SqlPasswordResets,
    SqlPaymentEventRepository,
    SqlProductRepository,
    SqlReconciliationLeases,
    SqlRequestKeyRepository,
    SqlUserRepository,
)
from framesell.application.errors import StorageUnavailable, WriteConflict
from framesell.application.ports import Clock

# Failures of the database rather than of our statements: connection refused or lost, pool
# exhausted, lock wait timeout, deadlock (OperationalError covers the last two on MySQL).
_TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)

# MySQL's ER_LOCK_DEADLOCK: an InnoDB deadlock, or a Galera certification failure (a write
# that conflicts with one another node committed first). The transaction was rolled back.
DEADLOCK = 1213


def is_write_conflict(error: BaseException) -> bool:
    """True for a deadlock or a Galera certification failure: rerunning may succeed."""
    if not isinstance(error, sa_exc.OperationalError):
        return False
    args: tuple[object, ...] = tuple(getattr(error.orig, "args", ()))
    return len(args) > 0 and args[0] == DEADLOCK


def storage_error(error: BaseException) -> StorageUnavailable:
    """The domain error for a transient database failure: WriteConflict or StorageUnavailable."""
    return WriteConflict() if is_write_conflict(error) else StorageUnavailable()


class SqlUnitOfWork:
    """One transaction on one pooled connection: rolls back on exit unless committed."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        clock = clock or SystemClock()
        self.users = SqlUserRepository(self._current_connection, clock)
        self.products = SqlProductRepository(self._current_connection, clock)
        self.orders = SqlOrderRepository(self._current_connection)
        self.request_keys = SqlRequestKeyRepository(self._current_connection)
        self.payment_events = SqlPaymentEventRepository(self._current_connection)
        self.leases = SqlReconciliationLeases(self._current_connection)
        self.outbox = SqlOutbox(self._current_connection)
        self.password_resets = SqlPasswordResets(self._current_connection)

    def _current_connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside a `with` block")
        return self._connection

    def __enter__(self) -> SqlUnitOfWork:
        """Check a connection out of the pool and begin a transaction."""
        if self._connection is not None:
            raise RuntimeError("this unit of work is already in use")
        try:
            connection = self._engine.connect()
        except _TRANSIENT as error:
            raise StorageUnavailable() from error
        try:
            connection.begin()
        except BaseException as error:
            connection.close()
            if isinstance(error, _TRANSIENT):
                raise StorageUnavailable() from error
            raise
        self._connection = connection
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed and return the connection to the pool."""
        connection, self._connection = self._connection, None
        if connection is not None:
            # Closing rolls back the open transaction, if any, before the checkin; on a
            # dead connection that rollback fails too, and the first error is the story.
            try:
                connection.close()
            except _TRANSIENT:
                if exc is None:
                    raise StorageUnavailable() from None
        if isinstance(exc, _TRANSIENT):
            # A lost or refused connection, a lock timeout, a deadlock: nothing was
            # committed, and the caller may retry. Vendor errors never cross the port;
            # a conflict is told apart so that application.transactions reruns it.
            raise storage_error(exc) from exc

    def commit(self) -> None:
        """Commit the work so far; the next statement, if any, begins a new transaction.

        Not begun here: a unit of work that commits last then returns its connection with
        nothing to roll back, which on MySQL saves a ROLLBACK round trip (its engine does
        not reset connections on return; see ``engine.make_engine``).
        """
        self._current_connection().commit()

    def rollback(self) -> None:
        """Discard the work since the last commit and begin a new transaction."""
        connection = self._current_connection()
        connection.rollback()
        connection.begin()


class SqlUnitOfWorkFactory:
    """Makes a fresh SqlUnitOfWork per call, so no transaction is shared across requests.

    ``clock`` stamps the rows' creation and update times (the system's clock when None).
    """

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    def __call__(self) -> SqlUnitOfWork:
        """Return a new, not yet entered, unit of work."""
        return SqlUnitOfWork(self.engine, self.clock)

