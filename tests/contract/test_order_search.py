"""OrderRepository.search on every storage adapter, and its indexes on SQLite and MariaDB."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from framesell.application.ports import UnitOfWorkFactory
from framesell.domain.models import OrderSearch, PaymentStatus, User
from tests.contract.helpers import a_product, a_user, an_order, later, unique
from tests.fixtures.database import count_statements


def _shop(uow_factory: UnitOfWorkFactory, orders_each: int = 3) -> tuple[list[User], list[int]]:
    """Two shoppers with a few orders each, every third PAID; returns shoppers and order ids."""
    tag = unique()
    with uow_factory() as uow:
        shoppers = [
            uow.users.add(a_user(f"{name}-{tag}@example.com")) for name in ("ann", "annabel")
        ]
        product = uow.products.add(a_product())
        ids = []
        for number in range(orders_each * 2):
            status = PaymentStatus.PAID if number % 3 == 0 else PaymentStatus.PENDING
            order = uow.orders.add(
                an_order(shoppers[number % 2], product, created_at=later(number), status=status)
            )
            assert order.id is not None
            ids.append(order.id)
        uow.commit()
    return shoppers, ids


def _search(uow_factory: UnitOfWorkFactory, **fields: Any) -> tuple[list[tuple[int, str]], int]:
    with uow_factory() as uow:
        found, total = uow.orders.search(OrderSearch(**fields))
    return [(f.order.id or 0, f.email) for f in found], total


def test_search_finds_orders_newest_first_by_status_id_and_email_start(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (ann, annabel), ids = _shop(uow_factory)
    of = {i: (ann if n % 2 == 0 else annabel).email for n, i in enumerate(ids)}

    assert _search(uow_factory) == ([(i, of[i]) for i in reversed(ids)], 6)
    assert _search(uow_factory, email_prefix="ann") == ([(i, of[i]) for i in reversed(ids)], 6)
    assert _search(uow_factory, email_prefix=ann.email) == (
        [(i, ann.email) for i in reversed(ids[0::2])], 3
    )
    assert _search(uow_factory, email_prefix="annab") == (
        [(i, annabel.email) for i in reversed(ids[1::2])], 3
    )
    assert _search(uow_factory, order_id=ids[2]) == ([(ids[2], ann.email)], 1)
    assert _search(uow_factory, status=PaymentStatus.PAID) == (
        [(ids[3], annabel.email), (ids[0], ann.email)], 2
    )
    assert _search(uow_factory, status=PaymentStatus.PAID, email_prefix="annab") == (
        [(ids[3], annabel.email)], 1
    )
    assert _search(uow_factory, email_prefix="zz") == ([], 0)
    assert _search(uow_factory, email_prefix="nn") == ([], 0)  # the start, not anywhere


def test_search_pages_with_the_total_of_every_page(uow_factory: UnitOfWorkFactory) -> None:
    (ann, _), ids = _shop(uow_factory, orders_each=4)
    newest_first = list(reversed(ids[0::2]))
    pages = [_search(uow_factory, email_prefix=ann.email, page=p, per_page=3) for p in (1, 2, 3)]
    assert pages == [
        ([(i, ann.email) for i in newest_first[:3]], 4),
        ([(i, ann.email) for i in newest_first[3:]], 4),
        ([], 4),
    ]


def test_a_page_costs_two_statements_however_many_orders_it_holds(
    sql_engine: Engine,
) -> None:
    factory = SqlUnitOfWorkFactory(sql_engine)
    _shop(factory, orders_each=30)
    counts = []
    for per_page in (1, 50):
        with count_statements(sql_engine) as log, factory() as uow:
            found, _ = uow.orders.search(OrderSearch(per_page=per_page))
            assert len(found) == per_page
        counts.append(len([s for s in log.statements if s.lstrip().startswith("SELECT")]))
    assert counts == [2, 2]


def _plan(engine: Engine, statement: Any) -> str:
    with engine.connect() as connection:
        sql = statement.compile(connection, compile_kwargs={"literal_binds": True})
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
            return " | ".join(str(row[-1]) for row in rows)
        rows = connection.exec_driver_sql(f"EXPLAIN {sql}").mappings().all()
        return " | ".join(
            f"{row['table']}: {row['type']} key={row['key']} extra={row['Extra']}" for row in rows
        )


def _statements_of(engine: Engine, search: OrderSearch) -> list[Any]:
    """The SELECTs ``search`` sends, captured, to be explained."""
    factory = SqlUnitOfWorkFactory(engine)
    captured: list[Any] = []

    def keep(conn: Any, clauseelement: Any, *args: Any) -> None:
        if isinstance(clauseelement, sa.sql.Select):
            captured.append(clauseelement)

    sa.event.listen(engine, "before_execute", keep)
    try:
        with factory() as uow:
            uow.orders.search(search)
    finally:
        sa.event.remove(engine, "before_execute", keep)
    return captured


def test_each_filter_of_the_owners_list_uses_an_index_among_many_orders(
    sql_engine: Engine,
) -> None:
    factory = SqlUnitOfWorkFactory(sql_engine)
    (ann, _), ids = _shop(factory, orders_each=100)
    with factory() as uow:  # a shop has many shoppers, each with a few orders
        product = uow.products.add(a_product())
        for number in range(100):
            other = uow.users.add(a_user())
            for minute in range(3):
                uow.orders.add(an_order(other, product, created_at=later(number + minute)))
        uow.commit()
    analyze = "ANALYZE" if sql_engine.dialect.name == "sqlite" else "ANALYZE TABLE orders, users"
    with sql_engine.connect() as connection:
        connection.exec_driver_sql(analyze)
    searches = {
        "status": (OrderSearch(status=PaymentStatus.PAID), "ix_orders_status_id"),
        "order id": (OrderSearch(order_id=ids[7]), "PRIMARY"),
        "email": (OrderSearch(email_prefix=ann.email), "ix_users_email"),
    }
    for name, (search, index) in searches.items():
        statements = _statements_of(sql_engine, search)
        assert len(statements) == 2, name
        for statement in statements:
            plan = _plan(sql_engine, statement)
            if sql_engine.dialect.name == "sqlite":
                expected = "PRIMARY KEY" if index == "PRIMARY" else index
                assert expected in plan, (name, plan)
                assert "SCAN orders" not in plan and "SCAN users" not in plan, (name, plan)
            else:
                assert f"key={index}" in plan, (name, plan)
                assert ": ALL " not in plan, (name, plan)
        if name == "email":
            assert "ix_orders_user_id_id" in _plan(sql_engine, statements[1]), plan
