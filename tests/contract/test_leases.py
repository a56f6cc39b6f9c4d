"""The ReconciliationLeases contract (one reconcile worker per order), on every storage adapter."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from framesell.application.ports import UnitOfWorkFactory
from tests.contract.helpers import later, save_order
from tests.contract.racing import race_in_transactions


def test_a_free_order_is_leased(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        assert uow.leases.lease(order.id or 0, until=later(5), now=later(0)) is True


def test_a_held_lease_is_refused_until_it_expires(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        uow.leases.lease(order.id or 0, until=later(5), now=later(0))
        uow.commit()
    with uow_factory() as uow:
        while_held = [uow.leases.lease(order.id or 0, until=later(9), now=later(m)) for m in (0, 4)]
        at_expiry = uow.leases.lease(order.id or 0, until=later(10), now=later(5))
        renewed_too_early = uow.leases.lease(order.id or 0, until=later(20), now=later(9))
        after_expiry = uow.leases.lease(order.id or 0, until=later(30), now=later(11))
    assert while_held == [False, False]
    assert (at_expiry, renewed_too_early, after_expiry) == (True, False, True)


def test_leasing_one_order_leaves_the_others_free(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        first, second = save_order(uow), save_order(uow)
        results = [
            uow.leases.lease(o.id or 0, until=later(5), now=later(0)) for o in (first, second)
        ]
    assert results == [True, True]


def test_an_unknown_order_cannot_be_leased(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.leases.lease(987_654, until=later(5), now=later(0)) is False


def test_a_lease_not_committed_is_forgotten(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        uow.commit()
        uow.leases.lease(order.id or 0, until=later(5), now=later(0))
    with uow_factory() as uow:
        assert uow.leases.lease(order.id or 0, until=later(5), now=later(1)) is True


def test_a_lease_leaves_the_order_as_it_was(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        uow.leases.lease(order.id or 0, until=later(5), now=later(0))
        reread = uow.orders.get(order.id or 0)
    assert reread == order
    assert reread is not None and reread.updated_at == order.updated_at


def test_of_eight_racing_workers_exactly_one_leases_an_order_on_sql(sql_engine: Engine) -> None:
    # The memory store runs one unit of work at a time, so only SQL can lose this race.
    factory = SqlUnitOfWorkFactory(sql_engine)
    with factory() as uow:
        order = save_order(uow)
        uow.leases.lease(order.id or 0, until=later(5), now=later(0))
        uow.commit()

    results = race_in_transactions(
        sql_engine, 8, lambda uow: uow.leases.lease(order.id or 0, until=later(15), now=later(10))
    )

    assert sorted(results) == [False] * 7 + [True]
