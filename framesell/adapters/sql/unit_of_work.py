"""The UnitOfWork port over one SQLAlchemy connection and its transaction."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import Connection, Engine

from framesell.adapters.sql.repositories import (
    SqlOrderRepository,
    SqlPaymentEventRepository,
    SqlProductRepository,
    SqlReconciliationLeases,
    SqlRequestKeyRepository,
    SqlUserRepository,
)


class SqlUnitOfWork:
    """One transaction on one pooled connection: rolls back on exit unless committed."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self.users = SqlUserRepository(self._current_connection)
        self.products = SqlProductRepository(self._current_connection)
        self.orders = SqlOrderRepository(self._current_connection)
        self.request_keys = SqlRequestKeyRepository(self._current_connection)
        self.payment_events = SqlPaymentEventRepository(self._current_connection)
        self.leases = SqlReconciliationLeases(self._current_connection)

    def _current_connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside a `with` block")
        return self._connection

    def __enter__(self) -> SqlUnitOfWork:
        """Check a connection out of the pool and begin a transaction."""
        if self._connection is not None:
            raise RuntimeError("this unit of work is already in use")
        connection = self._engine.connect()
        try:
            connection.begin()
        except BaseException:
            connection.close()
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
            # Closing rolls back the open transaction, if any, before the checkin.
            connection.close()

    def commit(self) -> None:
        """Commit the work so far and begin a new transaction for whatever follows."""
        connection = self._current_connection()
        connection.commit()
        connection.begin()

    def rollback(self) -> None:
        """Discard the work since the last commit and begin a new transaction."""
        connection = self._current_connection()
        connection.rollback()
        connection.begin()


class SqlUnitOfWorkFactory:
    """Makes a fresh SqlUnitOfWork per call, so no transaction is shared across requests."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        """Return a new, not yet entered, unit of work."""
        return SqlUnitOfWork(self.engine)

