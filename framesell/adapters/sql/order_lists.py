"""Each shopper's order list version (``users.order_list_version``): read it, bump it.

A bump runs in the transaction of the order change it follows, so the new version commits
with the change or not at all, and every process on the database sees both at once.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from framesell.adapters.sql.engine import make_engine
from framesell.adapters.sql.tables import orders, users
from framesell.application.errors import StorageUnavailable

# Built once, like the other hot statements (see repositories.py). The parameter names
# differ from the column names: an UPDATE may not bind a name its SET clause uses.
_VERSION_OF_USER = sa.select(users.c.order_list_version).where(
    users.c.id == sa.bindparam("version_user")
)
_BUMP = {"order_list_version": users.c.order_list_version + 1}
_BUMP_OF_USER = users.update().where(users.c.id == sa.bindparam("bumped_user")).values(_BUMP)
_BUMP_OF_ORDER = (
    users.update()
    .where(
        users.c.id
        == sa.select(orders.c.user_id)
        .where(orders.c.id == sa.bindparam("bumped_order"))
        .scalar_subquery()
    )
    .values(_BUMP)
)


def list_version(connection: Connection, user_id: int) -> int | None:
    """The user's order list version (one primary-key read), or None if no such user."""
    row = connection.execute(_VERSION_OF_USER, {"version_user": user_id}).first()
    return None if row is None else int(row[0])


def bump_for_user(connection: Connection, user_id: int) -> None:
    """Move the user's order list version on, before one of their orders is added.

    Before, not after: on InnoDB the new order's foreign key check share-locks the user's
    row, and two purchases of one shopper that both then asked to write it would deadlock.
    """
    connection.execute(_BUMP_OF_USER, {"bumped_user": user_id})


def bump_for_order(connection: Connection, order_id: int) -> None:
    """Move the order's shopper's list version on, after the order changed (same transaction).

    After, not before: the order's row is then already locked by the change, so the
    subquery that names its shopper waits for no one.
    """
    connection.execute(_BUMP_OF_ORDER, {"bumped_order": order_id})


def reader_engine(url: str, engine: Engine, **options: Any) -> Engine:
    """The engine for SqlOrderListVersions on the database ``engine`` uses: on MySQL a pool of
    autocommit connections of its own (as large as the main pool by default: a smaller one
    opened and closed an overflow connection per request), on SQLite ``engine`` itself."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        return engine
    return make_engine(url, isolation_level="AUTOCOMMIT", **options)


# The driver's own SQL for the version read, per its parameter style (sqlite3: qmark,
# PyMySQL: format or pyformat).
_VERSION_SQL = {
    "qmark": "SELECT order_list_version FROM users WHERE id = ?",
    "format": "SELECT order_list_version FROM users WHERE id = %s",
    "pyformat": "SELECT order_list_version FROM users WHERE id = %s",
}


class SqlOrderListVersions:
    """The OrderListVersions port: one SELECT on a pooled driver connection, no transaction.

    Read for every order list served, so without SQLAlchemy's statement execution (two
    thirds of a kept list's own time on SQLite) and, on MySQL, on connections in autocommit
    mode (``reader``, an engine of its own): a lone SELECT there starts no transaction, so
    nothing is left to roll back and the read is one round trip instead of two. On SQLite a
    SELECT begins no transaction in the driver either, and the main engine is used.
    """

    def __init__(self, reader: Engine) -> None:
        self._reader = reader
        style = reader.dialect.paramstyle
        if style not in _VERSION_SQL:
            raise ValueError(f"no statement written for the {style} parameter style")
        self._sql = _VERSION_SQL[style]
        self._driver_error: type[Exception] = reader.dialect.loaded_dbapi.Error

    def version_of(self, user_id: int) -> int | None:
        """The account's order list version, or None if there is no such account."""
        try:
            connection = self._reader.raw_connection()
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError) as error:
            raise StorageUnavailable() from error
        row: Any = None
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._sql, (user_id,))
                row = cursor.fetchone()
            finally:
                cursor.close()
        except self._driver_error as error:
            # In an unknown state now: closed and dropped from the pool, not reused.
            connection.invalidate(error)
            raise StorageUnavailable() from error
        finally:
            connection.close()
        return None if row is None else int(row[0])
