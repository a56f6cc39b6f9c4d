"""What only the SQL adapters promise: few statements, one-UPDATE swaps, engine settings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, StatementError

from framesell.adapters.memory import FixedClock
from framesell.adapters.sql.engine import database_is_reachable, make_engine
from framesell.adapters.sql.repositories import _ACCOUNT_WITH_ORDERS, _ORDERS_OF_USER
from framesell.adapters.sql.tables import metadata, products, users
from framesell.adapters.sql.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from framesell.application.errors import StorageUnavailable
from framesell.application.transactions import retrying
from framesell.domain.models import PaymentStatus
from framesell.domain.records import RequestRecord
from tests.contract.helpers import (
    T0,
    a_user,
    an_order,
    attempt_for,
    later,
    save_order,
    save_shopper_and_product,
)
from tests.fixtures.database import count_statements

PENDING, PAID, FAILED = PaymentStatus.PENDING, PaymentStatus.PAID, PaymentStatus.FAILED


def _statements_to_list_orders(engine: Engine, how_many: int) -> tuple[int, int]:
    factory = SqlUnitOfWorkFactory(engine)
    with factory() as uow:
        user, product = save_shopper_and_product(uow)
        for minute in range(how_many):
            uow.orders.add(an_order(user, product, created_at=later(minute)))
        uow.commit()
    with factory() as uow, count_statements(engine) as log:
        listed = uow.orders.list_for_user(user.id or 0)
    with factory() as uow, count_statements(engine) as account_log:
        found = uow.orders.list_for_account(user.id or 0)
    assert found == [order.summary() for order in listed]
    assert len(listed) == how_many
    return log.count, account_log.count


def test_listing_a_shoppers_orders_takes_one_statement_however_many_there_are(
    sql_engine: Engine,
) -> None:
    counts = {n: _statements_to_list_orders(sql_engine, n) for n in (0, 1, 7)}
    # list_for_user, and list_for_account (the account too, in the same statement).
    assert counts == {0: (1, 1), 1: (1, 1), 7: (1, 1)}


def test_a_transition_is_one_update_of_the_order_and_one_of_its_shoppers_list_version(
    sql_engine: Engine,
) -> None:
    with SqlUnitOfWork(sql_engine) as uow:
        order = save_order(uow)
        with count_statements(sql_engine) as log:
            moved = uow.orders.transition(
                order.id or 0, PENDING, PAID, payment_id="pi_one", at=T0
            )
    assert moved is True
    assert [s.lstrip().upper().split()[:2] for s in log.statements] == [
        ["UPDATE", "ORDERS"],
        ["UPDATE", "USERS"],
    ]


def test_a_transition_that_does_not_happen_leaves_the_list_version_alone(
    sql_engine: Engine,
) -> None:
    with SqlUnitOfWork(sql_engine) as uow:
        order = save_order(uow)
        with count_statements(sql_engine) as log:
            moved = uow.orders.transition(
                order.id or 0, PAID, PaymentStatus.REFUNDED, payment_id=None, at=T0
            )
    assert moved is False
    assert len(log.statements) == 1
    assert log.statements[0].lstrip().upper().startswith("UPDATE ORDERS")


def test_users_and_products_are_stamped_with_the_unit_of_works_clock(
    sql_engine: Engine,
) -> None:
    start = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    clock = FixedClock(start)
    with SqlUnitOfWorkFactory(sql_engine, clock)() as uow:
        user, product = save_shopper_and_product(uow)
        clock.advance(timedelta(minutes=3))
        uow.products.update(product)
        uow.commit()
    with sql_engine.connect() as connection:
        user_row = connection.execute(sa.select(users).where(users.c.id == user.id)).one()
        product_row = connection.execute(
            sa.select(products).where(products.c.id == product.id)
        ).one()
    assert user_row.created_at == start
    assert (product_row.created_at, product_row.updated_at) == (
        start,
        start + timedelta(minutes=3),
    )


def test_taking_over_a_request_key_is_one_update_statement(sql_engine: Engine) -> None:
    with SqlUnitOfWork(sql_engine) as uow:
        user = uow.users.add(a_user())
        uow.request_keys.add(RequestRecord(user.id or 0, "key-1", "f" * 64, T0, locked_at=T0))
        with count_statements(sql_engine) as log:
            taken = uow.request_keys.take_over(
                user.id or 0, "key-1", stale_before=later(1), now=later(2)
            )
    assert taken is True
    assert len(log.statements) == 1
    assert log.statements[0].lstrip().upper().startswith("UPDATE")


def test_leasing_an_order_is_one_update_statement(sql_engine: Engine) -> None:
    with SqlUnitOfWork(sql_engine) as uow:
        order = save_order(uow)
        with count_statements(sql_engine) as log:
            leased = uow.leases.lease(order.id or 0, until=later(5), now=later(0))
    assert leased is True
    assert len(log.statements) == 1
    assert log.statements[0].lstrip().upper().startswith("UPDATE")


def test_a_request_key_for_an_unknown_shopper_is_refused_by_the_foreign_key(
    sql_engine: Engine,
) -> None:
    with SqlUnitOfWork(sql_engine) as uow, pytest.raises(IntegrityError):
        uow.request_keys.add(RequestRecord(987_654, "key-1", "f" * 64, T0))


def test_a_transition_the_rules_forbid_sends_nothing_to_the_database(sql_engine: Engine) -> None:
    with SqlUnitOfWork(sql_engine) as uow:
        order = save_order(uow, status=PAID)
        with count_statements(sql_engine) as log:
            moved = uow.orders.transition(order.id or 0, PAID, PENDING, payment_id=None, at=T0)
    assert moved is False
    assert log.statements == []


def test_only_one_of_two_racing_transitions_wins(
    sql_engine: Engine, request: pytest.FixtureRequest
) -> None:
    factory = SqlUnitOfWorkFactory(sql_engine)
    with factory() as uow:
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 1, "pi_race"))
        uow.commit()
    results: dict[str, bool] = {}
    racer = threading.Thread(target=lambda: None)

    def webhook() -> None:
        for transaction in retrying(factory):
            with transaction as other:
                results["webhook"] = other.orders.transition(
                    order.id or 0, PENDING, FAILED, payment_id="pi_race", at=later(2)
                )
                other.commit()

    for transaction in retrying(factory):
        with transaction as uow:
            results["checkout"] = uow.orders.transition(
                order.id or 0, PENDING, PAID, payment_id="pi_race", at=later(1)
            )
            if not racer.is_alive() and "webhook" not in results:
                # On one server the webhook's UPDATE waits for our row lock, then finds the
                # status changed. On Galera (its connection is on another node) it commits
                # first and our commit is the write conflict: rerun, we find it FAILED.
                racer = threading.Thread(target=webhook)
                racer.start()
                racer.join(timeout=0.5)
            uow.commit()
    racer.join(timeout=30)
    assert not racer.is_alive()
    assert sorted(results.values()) == [False, True]
    if request.node.callspec.params["sql_engine"] != "galera":
        assert results == {"checkout": True, "webhook": False}
    with factory() as uow:
        reread = uow.orders.get(order.id or 0)
    assert reread is not None
    assert reread.status is (PAID if results["checkout"] else FAILED)


def test_an_order_for_an_unknown_shopper_is_refused_by_the_foreign_key(
    sql_engine: Engine,
) -> None:
    with SqlUnitOfWork(sql_engine) as uow:
        _, product = save_shopper_and_product(uow)
        stranger = a_user(id=987_654)
        with pytest.raises(IntegrityError):
            uow.orders.add(an_order(stranger, product))


def test_a_naive_datetime_is_refused(sql_engine: Engine) -> None:
    with SqlUnitOfWork(sql_engine) as uow:
        user, product = save_shopper_and_product(uow)
        naive = an_order(user, product, created_at=datetime(2017, 2, 11, 2, 40, 24))
        with pytest.raises(StatementError, match="naive datetime"):
            uow.orders.add(naive)


def test_money_is_stored_as_integer_cents_beside_a_currency(sql_engine: Engine) -> None:
    inspector = sa.inspect(sql_engine)
    for table, amount, currency in [
        ("products", "price_cents", "currency"),
        ("orders", "product_price_cents", "product_currency"),
    ]:
        columns = {c["name"]: c["type"] for c in inspector.get_columns(table)}
        assert isinstance(columns[amount], sa.Integer)
        currency_type = columns[currency]
        assert isinstance(currency_type, sa.String) and currency_type.length == 3
    for declared in metadata.tables.values():
        for column in declared.columns:
            assert not isinstance(column.type, sa.Float | sa.Numeric), column


def test_the_database_is_reachable(sql_engine: Engine) -> None:
    assert database_is_reachable(sql_engine) is True


def test_a_database_that_cannot_be_reached_is_reported_so() -> None:
    engine = make_engine(
        "mysql+pymysql://nobody@127.0.0.1:1/nowhere", connect_args={"connect_timeout": 1}
    )
    try:
        assert database_is_reachable(engine) is False
    finally:
        engine.dispose()


def test_a_unit_of_work_outside_its_block_refuses_to_work(sql_engine: Engine) -> None:
    uow = SqlUnitOfWork(sql_engine)
    with pytest.raises(RuntimeError):
        uow.users.get(1)


def test_a_unit_of_work_returns_its_connection_to_the_pool(sql_engine: Engine) -> None:
    pool = sql_engine.pool
    before = pool.checkedout()  # type: ignore[attr-defined]
    with SqlUnitOfWork(sql_engine) as uow:
        uow.users.get(1)
        assert pool.checkedout() == before + 1  # type: ignore[attr-defined]
    assert pool.checkedout() == before  # type: ignore[attr-defined]


def test_sqlite_enforces_foreign_keys_and_writes_ahead(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert (connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) > 0
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_mysql_talks_utf8mb4_in_read_committed(mysql_url: str) -> None:
    engine = make_engine(mysql_url)
    try:
        with engine.connect() as connection:
            charset = connection.exec_driver_sql("SELECT @@character_set_connection").scalar()
            level = connection.get_isolation_level()
            mode = str(connection.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar())
            engines = connection.exec_driver_sql(
                "SELECT DISTINCT engine, table_collation FROM information_schema.tables"
                " WHERE table_schema = DATABASE()"
            ).all()
    finally:
        engine.dispose()
    assert charset == "utf8mb4"
    assert level == "READ COMMITTED"
    assert "STRICT_TRANS_TABLES" in mode
    assert set(engines) == {("InnoDB", "utf8mb4_unicode_ci")}


def _session_rollbacks(uow: SqlUnitOfWork) -> int:
    """How many ROLLBACKs this connection's MySQL session has been sent so far."""
    row = uow._current_connection().exec_driver_sql(
        "SHOW SESSION STATUS LIKE 'Com_rollback'"
    ).one()
    return int(row[1])


@pytest.mark.mysql
def test_a_unit_of_work_that_ends_by_committing_returns_its_connection_without_a_rollback(
    mysql_url: str,
) -> None:
    engine = make_engine(mysql_url, pool_size=1, max_overflow=0)  # one session throughout
    factory = SqlUnitOfWorkFactory(engine)
    try:
        with factory() as uow:
            before = _session_rollbacks(uow)
        # That reading unit of work ended with one ROLLBACK; this one commits last.
        with factory() as uow:
            kept = uow.users.add(a_user())
            uow.commit()
        with factory() as uow:
            after = _session_rollbacks(uow)
            in_transaction = uow._current_connection().exec_driver_sql(
                "SELECT @@in_transaction"
            ).scalar()
            assert uow.users.get(kept.id or 0) == kept
    finally:
        engine.dispose()
    assert after == before + 1  # the reader's own, none for the committer
    assert in_transaction == 0  # and the connection came back with nothing open


@pytest.mark.mysql
def test_work_left_uncommitted_is_rolled_back_before_the_connection_is_used_again(
    mysql_url: str,
) -> None:
    engine = make_engine(mysql_url, pool_size=1, max_overflow=0)
    factory = SqlUnitOfWorkFactory(engine)
    try:
        with factory() as uow:
            kept = uow.users.add(a_user())
            uow.commit()
            lost = uow.users.add(a_user())  # begun after the commit, never committed
        with factory() as uow:
            in_transaction = uow._current_connection().exec_driver_sql(
                "SELECT @@in_transaction"
            ).scalar()
            found = (uow.users.get_by_email(kept.email), uow.users.get_by_email(lost.email))
        with engine.connect() as other:  # the same session: nothing of `lost` anywhere
            count = other.execute(sa.select(sa.func.count()).select_from(users)).scalar()
    finally:
        engine.dispose()
    assert in_transaction == 0
    assert found == (kept, None)
    assert count == 1


def _plans_of_listing_a_shoppers_orders(engine: Engine, user_id: int) -> list[str]:
    """The database's plans for the statements ``list_for_user`` and ``list_for_account`` send."""
    plans = []
    with engine.connect() as connection:
        for query in (_ORDERS_OF_USER, _ACCOUNT_WITH_ORDERS):
            statement = query.params(user_id=user_id).compile(
                connection, compile_kwargs={"literal_binds": True}
            )
            if engine.dialect.name == "sqlite":
                rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}").all()
                plans.append(" | ".join(str(row[-1]) for row in rows))
            else:
                rows = connection.exec_driver_sql(f"EXPLAIN {statement}").mappings().all()
                plans.append(
                    " | ".join(
                        f"{row['table']}: {row['type']} key={row['key']} extra={row['Extra']}"
                        for row in rows
                    )
                )
    return plans


def test_listing_a_shoppers_orders_uses_the_user_id_index_among_many_orders(
    sql_engine: Engine,
) -> None:
    factory = SqlUnitOfWorkFactory(sql_engine)
    with factory() as uow:
        shoppers = [uow.users.add(a_user()) for _ in range(20)]
        _, product = save_shopper_and_product(uow)
        for number in range(400):
            uow.orders.add(an_order(shoppers[number % 20], product, created_at=later(number)))
        uow.commit()
    analyze = "ANALYZE" if sql_engine.dialect.name == "sqlite" else "ANALYZE TABLE orders"
    with sql_engine.connect() as connection:
        connection.exec_driver_sql(analyze)
    for plan in _plans_of_listing_a_shoppers_orders(sql_engine, shoppers[0].id or 0):
        assert "ix_orders_user_id_id" in plan, plan
        if sql_engine.dialect.name == "sqlite":
            # A search on the index (by primary key for the account): no scan, no sort.
            assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan
        else:
            assert "ALL" not in plan and "filesort" not in plan.lower(), plan
            assert "temporary" not in plan.lower(), plan


def _connection_id(factory: SqlUnitOfWorkFactory) -> int:
    with factory() as uow:
        connection = uow._current_connection()
        return int(connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one())


def _kill(mysql_url: str, connection_id: int) -> None:
    killer = make_engine(mysql_url)
    try:
        with killer.connect() as connection:
            connection.exec_driver_sql(f"KILL {connection_id}")
    finally:
        killer.dispose()


PingingFactory = Callable[[float], SqlUnitOfWorkFactory]


@pytest.fixture
def pinging_after(mysql_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[PingingFactory]:
    """Units of work on a one-connection MySQL pool that pings after ``seconds`` idle."""
    from framesell.adapters.sql import engine as engine_module

    engines: list[Engine] = []

    def build(seconds: float) -> SqlUnitOfWorkFactory:
        monkeypatch.setattr(engine_module, "MYSQL_PING_AFTER_IDLE_SECONDS", seconds)
        engines.append(make_engine(mysql_url, pool_size=1))
        return SqlUnitOfWorkFactory(engines[-1])

    yield build
    for engine in engines:
        engine.dispose()


def test_a_mysql_connection_idle_past_the_threshold_is_pinged_and_replaced(
    mysql_url: str, pinging_after: PingingFactory
) -> None:
    factory = pinging_after(0.2)
    first = _connection_id(factory)
    assert _connection_id(factory) == first  # reused from the pool
    _kill(mysql_url, first)  # as a server restart or a proxy's idle timeout would
    time.sleep(0.3)
    replacement = _connection_id(factory)  # pinged at checkout, found dead, replaced
    assert replacement != first


def test_a_mysql_connection_in_use_a_moment_ago_is_not_pinged(
    mysql_url: str, pinging_after: PingingFactory
) -> None:
    factory = pinging_after(60)
    first = _connection_id(factory)
    _kill(mysql_url, first)
    # Not pinged: the statement finds the connection dead, which is StorageUnavailable
    # (a 503 the client may retry), and the pool's connections are discarded ...
    with pytest.raises(StorageUnavailable):
        _connection_id(factory)
    # ... so the next unit of work gets a new one.
    assert _connection_id(factory) != first
