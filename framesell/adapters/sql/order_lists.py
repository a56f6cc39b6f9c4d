"""Each shopper's order list version (``users.order_list_version``): read it, bump it.

A bump runs in the transaction of the order change it follows, so the new version commits
with the change or not at all, and every process on the database sees both at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from framesell.adapters.sql.tables import orders, users

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
