"""The explicit Alembic migrations build exactly the schema that tables.py describes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from framesell.adapters.sql.engine import make_engine
from framesell.adapters.sql.migrate import alembic_config, current_revision, upgrade_to_head
from framesell.adapters.sql.tables import metadata
from framesell.adapters.sql.unit_of_work import SqlUnitOfWork
from framesell.domain.models import PaymentStatus
from tests.contract.helpers import T0, later, save_order


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _column_shape(column_type: Any, dialect_name: str) -> tuple[Any, ...]:
    """What must agree between a reflected and a declared column type."""
    affinity = column_type._type_affinity
    if dialect_name in ("mysql", "mariadb") and affinity is sa.Boolean:
        affinity = sa.Integer  # MySQL has no boolean: BOOL is TINYINT(1) and reflects so
    return (
        affinity,
        getattr(column_type, "length", None),
        getattr(column_type, "collation", None),
        getattr(column_type, "fsp", None),
    )


def test_a_fresh_database_is_migrated_to_the_head_revision(sql_engine: Engine) -> None:
    assert current_revision(sql_engine.url.render_as_string(hide_password=False)) == _head()
    tables = set(sa.inspect(sql_engine).get_table_names())
    assert tables == {"alembic_version", *metadata.tables}


def test_the_migrated_schema_matches_the_core_tables(sql_engine: Engine) -> None:
    with sql_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        inspector = sa.inspect(connection)
        for table in metadata.sorted_tables:
            reflected = {c["name"]: c for c in inspector.get_columns(table.name)}
            declared = {c.name: c for c in table.columns}
            assert list(reflected) == list(declared), table.name
            for name, column in declared.items():
                dialect_type = column.type.dialect_impl(connection.dialect)
                assert reflected[name]["nullable"] == column.nullable, (table.name, name)
                dialect_name = connection.dialect.name
                assert _column_shape(reflected[name]["type"], dialect_name) == _column_shape(
                    dialect_type, dialect_name
                ), (table.name, name)
            reflected_indexes = {
                i["name"]: (tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table.name)
            }
            declared_indexes = {
                i.name: (tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes
            }
            assert reflected_indexes == declared_indexes, table.name
            reflected_keys = {
                (tuple(k["constrained_columns"]), k["referred_table"], tuple(k["referred_columns"]))
                for k in inspector.get_foreign_keys(table.name)
            }
            declared_keys = {
                (
                    tuple(c.name for c in k.columns),
                    k.referred_table.name,
                    tuple(e.column.name for e in k.elements),
                )
                for k in table.foreign_key_constraints
            }
            assert reflected_keys == declared_keys, table.name


def _schema_and_rows(url: str) -> dict[str, Any]:
    """Every table's columns, indexes, foreign keys and rows: what a migration could change."""
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        found: dict[str, Any] = {}
        with engine.connect() as connection:
            for name in sorted(inspector.get_table_names()):
                columns = [
                    (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)
                ]
                indexes = sorted(
                    (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(name)
                )
                keys = sorted(
                    (tuple(k["constrained_columns"]), k["referred_table"])
                    for k in inspector.get_foreign_keys(name)
                )
                rows = sorted(
                    map(repr, connection.execute(sa.text(f"SELECT * FROM {name}")).all())
                )
                found[name] = (columns, indexes, keys, rows)
        return found
    finally:
        engine.dispose()


def test_upgrading_an_up_to_date_database_changes_nothing(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with SqlUnitOfWork(engine) as uow:
            save_order(uow)
            uow.commit()
    finally:
        engine.dispose()
    before = _schema_and_rows(sqlite_url)
    upgrade_to_head(sqlite_url)
    assert current_revision(sqlite_url) == _head()
    assert _schema_and_rows(sqlite_url) == before
    assert before["orders"][3], "the comparison must include stored rows"


def test_the_migrations_can_be_undone_and_redone(sqlite_url: str) -> None:
    migrated = _schema_and_rows(sqlite_url)
    command.downgrade(alembic_config(sqlite_url), "base")
    assert current_revision(sqlite_url) is None
    assert set(_schema_and_rows(sqlite_url)) <= {"alembic_version"}
    upgrade_to_head(sqlite_url)
    assert current_revision(sqlite_url) == _head()
    assert _schema_and_rows(sqlite_url) == migrated


def test_an_unmigrated_database_has_no_revision(tmp_path: Any) -> None:
    assert current_revision(f"sqlite:///{tmp_path / 'empty.sqlite3'}") is None


def test_undoing_the_payment_safety_migration_keeps_the_orders(sqlite_url: str) -> None:
    # On SQLite the downgrade copies the orders table to drop its two new columns.
    engine = make_engine(sqlite_url)
    try:
        with SqlUnitOfWork(engine) as uow:
            order = save_order(uow)
            assert uow.leases.lease(order.id or 0, until=later(60), now=T0)
            uow.commit()
        engine.dispose()
        command.downgrade(alembic_config(sqlite_url), "0001")
        upgrade_to_head(sqlite_url)
        with SqlUnitOfWork(engine) as uow:
            assert uow.orders.get(order.id or 0) == order
            # The lease went with its column.
            assert uow.leases.lease(order.id or 0, until=later(60), now=T0)
    finally:
        engine.dispose()


def test_the_refunds_migration_counts_old_full_refunds_and_undoes_partial_ones(
    sql_engine: Engine,
) -> None:
    url = sql_engine.url.render_as_string(hide_password=False)
    with SqlUnitOfWork(sql_engine) as uow:
        refunded = save_order(uow, status=PaymentStatus.REFUNDED)
        partial = save_order(uow, status=PaymentStatus.PAID)
        assert uow.orders.settle(
            partial.id or 0, expected=PaymentStatus.PAID, expected_refunded_cents=0,
            target=PaymentStatus.PARTIALLY_REFUNDED, refunded_cents=2500, payment_id=None,
            at=later(1),
        )
        uow.commit()
    sql_engine.dispose()

    command.downgrade(alembic_config(url), "0005")  # before refunded amounts were kept
    command.downgrade(alembic_config(url), "0005")  # before refunded amounts were kept (0006)
    upgrade_to_head(url)

    with SqlUnitOfWork(sql_engine) as uow:
        full = uow.orders.get(refunded.id or 0)
        undone = uow.orders.get(partial.id or 0)
    assert full is not None and undone is not None
    assert (full.status, full.refunded_cents) == (PaymentStatus.REFUNDED, refunded.amount.cents)
    assert (undone.status, undone.refunded_cents) == (PaymentStatus.PAID, 0)


def test_the_formats_migration_sells_every_photo_as_a_download_and_gives_old_orders_a_line(
    sql_engine: Engine,
) -> None:
    url = sql_engine.url.render_as_string(hide_password=False)
    with SqlUnitOfWork(sql_engine) as uow:
        old = save_order(uow, status=PaymentStatus.PAID)
        uow.commit()
    sql_engine.dispose()

    command.downgrade(alembic_config(url), "0007")  # before formats and order lines
    upgrade_to_head(url)

    with SqlUnitOfWork(sql_engine) as uow:
        order = uow.orders.get(old.id or 0)
        product = uow.products.get(old.product.product_id)
    assert order is not None and product is not None
    (digital,) = product.formats
    assert (digital.kind.value, digital.price) == ("digital", product.price)
    (line,) = order.items
    assert line == replace(old.items[0], format_id=digital.id)
    assert (order.amount, order.shipping, order.shipping_price) == (old.amount, None, None)
