"""Real write conflicts between two nodes of a Galera cluster, and the rerun that settles them.

Each test holds a transaction open on node 2 while node 1 commits a write to the same row:
node 2's transaction is then the loser (a certification failure or a brute-force abort by
the replicated write, reported as a deadlock), which the unit of work raises as
WriteConflict and ``retrying`` runs again on fresh reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bench.galera import Cluster
from framesell.adapters.sql.engine import make_engine
from framesell.adapters.sql.throttle import SqlEventCounter, SqlLoginThrottle
from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from framesell.application.errors import WriteConflict
from framesell.application.transactions import retrying
from framesell.domain.models import Product
from framesell.domain.money import Money
from framesell.domain.records import RequestRecord
from tests.contract.helpers import T0, a_product, a_user, later
from tests.contract.racing import race
from tests.fixtures.network import free_port

pytestmark = pytest.mark.galera


@pytest.fixture
def nodes(galera_urls: list[str]) -> Iterator[tuple[SqlUnitOfWorkFactory, SqlUnitOfWorkFactory]]:
    """Units of work on node 1 and on node 2 of one scratch database."""
    engines = [make_engine(url) for url in galera_urls[:2]]
    yield SqlUnitOfWorkFactory(engines[0]), SqlUnitOfWorkFactory(engines[1])
    for engine in engines:
        engine.dispose()


def test_a_write_that_loses_to_another_nodes_commit_is_a_write_conflict_and_not_kept(
    nodes: tuple[SqlUnitOfWorkFactory, SqlUnitOfWorkFactory],
) -> None:
    first, second = nodes
    with first() as uow:
        product = uow.products.add(a_product(1000))
        uow.commit()
    assert product.id is not None

    with pytest.raises(WriteConflict), second() as loser:
        loser.products.update(replace(product, price=Money(2000, "usd")))
        with first() as winner:
            winner.products.update(replace(product, price=Money(3000, "usd")))
            winner.commit()
        loser.commit()

    with second() as uow:
        kept = uow.products.get(product.id)
    assert kept is not None
    assert (kept.price, kept.description) == (Money(3000, "usd"), product.description)


def test_a_transaction_that_loses_is_rerun_on_fresh_reads_and_then_commits(
    nodes: tuple[SqlUnitOfWorkFactory, SqlUnitOfWorkFactory],
) -> None:
    first, second = nodes
    with first() as uow:
        product = uow.products.add(a_product(1000))
        uow.commit()
    assert product.id is not None
    seen: list[Product | None] = []

    for transaction in retrying(second):
        with transaction as uow:
            current = uow.products.get(product.id)
            seen.append(current)
            assert current is not None
            uow.products.update(replace(current, description=current.description + " (framed)"))
            if len(seen) == 1:  # meanwhile node 1 changes the price and commits first
                with first() as other:
                    other.products.update(replace(product, price=Money(3000, "usd")))
                    other.commit()
            uow.commit()

    assert len(seen) == 2
    rerun_saw = seen[1]
    assert rerun_saw is not None
    assert (rerun_saw.price, rerun_saw.description) == (Money(3000, "usd"), product.description)
    with first() as uow:
        kept = uow.products.get(product.id)
    assert kept is not None
    assert (kept.price, kept.description) == (
        Money(3000, "usd"),
        product.description + " (framed)",
    )


def test_a_key_claimed_on_two_nodes_at_once_is_stored_once_and_the_rerun_sees_it_taken(
    nodes: tuple[SqlUnitOfWorkFactory, SqlUnitOfWorkFactory],
) -> None:
    first, second = nodes
    with first() as uow:
        user = uow.users.add(a_user())
        uow.commit()
    assert user.id is not None
    mine = RequestRecord(user.id, "double-click", "mine", created_at=T0, locked_at=T0)
    theirs = replace(mine, fingerprint="theirs", created_at=later(1), locked_at=later(1))
    added: list[bool] = []

    for transaction in retrying(second):
        with transaction as uow:
            added.append(uow.request_keys.add(mine))
            if len(added) == 1:  # the same key arrives through node 1 and commits first
                with first() as other:
                    assert other.request_keys.add(theirs) is True
                    other.commit()
            uow.commit()

    # Node 2's INSERT succeeded locally, lost at commit, and its rerun met the duplicate:
    # on one server the INSERT would have waited for the lock and met it the first time.
    assert added == [True, False]
    with second() as uow:
        assert uow.request_keys.get(user.id, "double-click") == theirs


def test_throttle_writes_racing_on_three_nodes_are_rerun_and_all_kept(
    galera_urls: list[str],
) -> None:
    """Every claim and event deletes the same expired rows: the nodes' deletes conflict."""
    engines = [make_engine(url) for url in galera_urls]
    throttles = [SqlLoginThrottle(engine) for engine in engines]
    counters = [SqlEventCounter(engine) for engine in engines]
    key, old = "k" * 64, T0 - timedelta(days=2)
    for _ in range(30):
        throttles[0].record_failure((key,), old, forget_before=old - timedelta(days=1))
        counters[0].record((key,), old, forget_before=old - timedelta(days=1))
    ran = iter(range(1000))

    def write(start: Callable[[], None]) -> None:
        number = next(ran)
        start()
        node = number % 3
        throttles[node].claim((key,), T0, forget_before=T0 - timedelta(days=1), wait=lambda f: 0)
        counters[node].record((key,), T0, forget_before=T0 - timedelta(days=1))

    try:
        race(9, write)  # a lost write raises WriteConflict out of its racer
        assert throttles[1].failures((key,), since=old - timedelta(days=1)) == {key: [T0] * 9}
        assert counters[2].events((key,), since=old - timedelta(days=1)) == {key: [T0] * 9}
    finally:
        for engine in engines:
            engine.dispose()


def test_a_url_asks_for_causal_reads_and_names_fallback_nodes(galera_cluster: Cluster) -> None:
    node = galera_cluster.nodes[0]
    nobody = free_port()
    engine = make_engine(
        f"mysql+pymysql://root@127.0.0.1:{nobody}/?wsrep_sync_wait=3"
        f"&fallback=127.0.0.1:{free_port()},127.0.0.1:{node.port}"
    )
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.text("SELECT @@port, @@wsrep_sync_wait")).one()
    finally:
        engine.dispose()
    assert tuple(row) == (node.port, 3)


@pytest.mark.parametrize(
    "query", ["wsrep_sync_wait=16", "wsrep_sync_wait=read", "fallback=nohost", "fallback=h:p"]
)
def test_a_wrong_galera_option_in_the_url_stops_the_start(query: str) -> None:
    with pytest.raises(ValueError, match=query.split("=")[0]):
        make_engine(f"mysql+pymysql://root@127.0.0.1:3306/framesell?{query}")


def test_every_table_the_migrations_create_is_innodb_with_a_primary_key(galera_url: str) -> None:
    engine = make_engine(galera_url, pool_size=1)
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                sa.text(
                    "SELECT t.table_name, t.engine, COUNT(c.constraint_name) "
                    "FROM information_schema.tables t LEFT JOIN "
                    "information_schema.table_constraints c ON c.table_schema = t.table_schema "
                    "AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY' "
                    "WHERE t.table_schema = DATABASE() GROUP BY t.table_name, t.engine"
                )
            ).all()
    finally:
        engine.dispose()
    assert len(tables) >= 8
    assert [row for row in tables if row[1] != "InnoDB" or row[2] != 1] == []
