"""A Galera node SIGKILLed under a running FrameSell process: it moves to another node and recovers.

The process's database URL names its own node and the others as ``fallback``. The kill cuts
the connections it holds; what was in flight on them fails (503, nothing charged twice), the
pool then connects to the next ready node and the process answers again without a restart.
The node is restarted, rejoins by incremental state transfer and has every order.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from bench.galera import Cluster
from framesell.adapters.sql.engine import make_engine
from tests.fixtures.processes import call
from tests.fixtures.stripe import StripeLedger
from tests.system.conftest import GALERA, Shop

pytestmark = [pytest.mark.slow, pytest.mark.galera, pytest.mark.stripe]


@pytest.mark.parametrize("database", [GALERA], indirect=True)
def test_a_process_whose_node_is_killed_carries_on_on_another_node_and_loses_nothing(
    shop: Shop, galera_cluster: Cluster, database: list[str], ledger: StripeLedger
) -> None:
    name = sa.engine.make_url(database[0]).database or ""
    victim = galera_cluster.nodes[2]
    app = shop.app("on-node-3", database_url=galera_cluster.url_with_fallback(name, 2))
    auth = shop.shopper(app, "node-loss@example.com")
    status, before, _ = shop.buy(app, auth, key="before")
    assert status == 201

    galera_cluster.kill(victim)
    try:
        # The first checkout may still meet a connection to the dead node: a 503, nothing
        # written. A retry with the same key is the client's way; within a few it is paid.
        answers = []
        for _ in range(5):
            status, answer, _ = shop.buy(app, auth, key="after")
            answers.append(status)
            if status == 201:
                break
            time.sleep(0.2)
        assert answers[-1] == 201, answers
        assert set(answers) <= {201, 503}, answers
        assert call("GET", f"{app.url}/api/health/")[0] == 200
    finally:
        galera_cluster.restart(victim)

    orders = shop.orders(app, auth)
    assert [order["paymentstatus"] for order in orders] == ["PAID", "PAID"]
    for order in orders:
        assert len(ledger.payments_for_order(order["id"])) == 1
    # The restarted node caught up: it has both orders.
    engine = make_engine(victim.url(name), pool_size=1)
    try:
        with engine.connect() as connection:
            count = connection.execute(sa.text("SELECT COUNT(*) FROM orders")).scalar_one()
    finally:
        engine.dispose()
    assert count == 2
    assert answer["order"]["id"] != before["order"]["id"]
