"""The OrderListVersions port (a lone read, no unit of work) on each SQL database.

It must say what ``OrderRepository.list_version`` says, see only committed changes, and on
MySQL leave nothing open and send no ROLLBACK (its connections are in autocommit mode).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from framesell.adapters.sql.engine import make_engine
from framesell.adapters.sql.order_lists import SqlOrderListVersions, reader_engine
from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from framesell.application.errors import StorageUnavailable
from tests.contract.helpers import a_user, an_order, save_shopper_and_product

URLS = ["sqlite_url", pytest.param("mysql_url", marks=pytest.mark.mysql)]


def _reader(url: str, **options: object) -> Engine:
    """The reader engine bootstrap builds: autocommit connections of its own on MySQL."""
    engine = make_engine(url)
    reader = reader_engine(url, engine, **options)
    if reader is not engine:
        engine.dispose()
    return reader


@pytest.fixture(params=URLS)
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


@pytest.fixture
def stores(url: str) -> Iterator[tuple[SqlUnitOfWorkFactory, SqlOrderListVersions]]:
    engine, reader = make_engine(url), _reader(url)
    yield SqlUnitOfWorkFactory(engine), SqlOrderListVersions(reader)
    engine.dispose()
    reader.dispose()


def test_a_lone_read_says_what_the_repository_says(
    stores: tuple[SqlUnitOfWorkFactory, SqlOrderListVersions],
) -> None:
    uow_factory, versions = stores
    with uow_factory() as uow:
        shopper, product = save_shopper_and_product(uow)
        other = uow.users.add(a_user())
        uow.commit()
    before = versions.version_of(shopper.id or 0)
    with uow_factory() as uow:
        uow.orders.add(an_order(shopper, product))
        uow.commit()
    with uow_factory() as uow:
        stored = uow.orders.list_version(shopper.id or 0)
        others = uow.orders.list_version(other.id or 0)
    assert before is not None and stored is not None
    assert versions.version_of(shopper.id or 0) == stored != before
    assert versions.version_of(other.id or 0) == others
    assert versions.version_of((shopper.id or 0) + 1000) is None


def test_a_lone_read_sees_only_committed_changes(
    stores: tuple[SqlUnitOfWorkFactory, SqlOrderListVersions],
) -> None:
    uow_factory, versions = stores
    with uow_factory() as uow:
        shopper, product = save_shopper_and_product(uow)
        uow.commit()
    committed = versions.version_of(shopper.id or 0)
    with uow_factory() as uow:
        uow.orders.add(an_order(shopper, product))  # not committed yet
        if uow_factory.engine.dialect.name != "sqlite":  # SQLite's one writer would wait
            assert versions.version_of(shopper.id or 0) == committed
    assert versions.version_of(shopper.id or 0) == committed  # rolled back


@pytest.mark.mysql
def test_on_mysql_a_lone_read_is_one_statement_and_leaves_nothing_open(mysql_url: str) -> None:
    reader = _reader(mysql_url, pool_size=1, max_overflow=0)  # one session throughout
    engine = make_engine(mysql_url)
    try:
        with SqlUnitOfWorkFactory(engine)() as uow:
            shopper = uow.users.add(a_user())
            uow.commit()
        versions = SqlOrderListVersions(reader)

        def session_status() -> tuple[int, int, int]:
            with reader.connect() as connection:
                rows = dict(
                    connection.exec_driver_sql(
                        "SHOW SESSION STATUS WHERE Variable_name IN"
                        " ('Com_rollback', 'Com_commit', 'Questions')"
                    ).all()
                )
                open_now = connection.exec_driver_sql("SELECT @@in_transaction").scalar()
            return int(rows["Com_rollback"]), int(rows["Questions"]), int(open_now or 0)

        rollbacks, questions, _ = session_status()
        for _ in range(5):
            assert versions.version_of(shopper.id or 0) is not None
        after_rollbacks, after_questions, open_now = session_status()
    finally:
        engine.dispose()
        reader.dispose()
    # The first session_status's own ROLLBACK (its Connection ends that way), none of the reads'.
    assert after_rollbacks == rollbacks + 1
    # Five reads, and the first session_status's two statements and ROLLBACK: nothing else.
    assert after_questions - questions == 5 + 3
    assert open_now == 0


@pytest.mark.mysql
def test_a_read_on_a_dead_connection_is_storage_unavailable_and_the_next_one_reconnects(
    mysql_url: str,
) -> None:
    reader = _reader(mysql_url, pool_size=1, max_overflow=0)
    try:
        versions = SqlOrderListVersions(reader)
        with SqlUnitOfWorkFactory(make_engine(mysql_url))() as uow:
            shopper = uow.users.add(a_user())
            uow.commit()
        assert versions.version_of(shopper.id or 0) is not None
        with reader.connect() as connection:
            session = connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
        killer = make_engine(mysql_url)
        with killer.connect() as connection:
            connection.execute(sa.text(f"KILL {int(session or 0)}"))
        killer.dispose()
        answers = []
        for _ in range(2):
            try:
                answers.append(versions.version_of(shopper.id or 0))
            except StorageUnavailable:
                answers.append("unavailable")
    finally:
        reader.dispose()
    # The killed connection fails once (or is noticed by the idle ping), never twice.
    assert answers[-1] is not None and answers[-1] != "unavailable"
