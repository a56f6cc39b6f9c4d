"""On SQLite: an unchanged order list costs one primary-key read, and two apps share versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp

from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from framesell.bootstrap import Settings, Shop, bootstrap
from framesell.domain.money import Money
from framesell.entrypoints.http import make_app
from tests.api.conftest import PASSWORD, SETTINGS, unique_email
from tests.fixtures.database import count_sqlite_statements, count_statements

AppOnDatabase = Callable[[], tuple[TestApp, Shop]]


@pytest.fixture
def app_on(sqlite_url: str) -> AppOnDatabase:
    """Build one app (as one process would) on the test's SQLite file; call it twice for two."""

    def build() -> tuple[TestApp, Shop]:
        settings = {**SETTINGS, "framesell.storage": "sql", "framesell.database_url": sqlite_url}
        shop = bootstrap(Settings.from_mapping(settings, environ={}))
        return TestApp(make_app(shop, settings)), shop

    return build


def _engine(shop: Shop) -> Any:
    uow = shop.uow
    assert isinstance(uow, SqlUnitOfWorkFactory)
    return uow.engine


def _shopper(shop: Shop) -> dict[str, str]:
    email = unique_email()
    shop.users.register(first_name="Foo", last_name="Bar", email=email, password=PASSWORD)
    return {"Authorization": f"JWT {shop.users.log_in(email, PASSWORD)}"}


def _product(shop: Shop) -> int:
    product = shop.catalog.add_product(
        "Brooklyn Bridge", "https://photos.example.com/p.jpg", Money.from_major("59.99")
    )
    assert product.id is not None
    return product.id


def _buy(app: TestApp, auth: dict[str, str], product_id: int) -> dict[str, Any]:
    answer = app.post_json(
        "/api/order/", {"product": product_id, "token": "tok_visa"}, headers=auth, status=201
    )
    order: dict[str, Any] = answer.json["order"]
    return order


def test_an_unchanged_list_is_served_after_reading_only_the_shoppers_list_version(
    app_on: AppOnDatabase,
) -> None:
    app, shop = app_on()
    auth, product_id = _shopper(shop), _product(shop)
    for _ in range(3):
        _buy(app, auth, product_id)
    first = app.get("/api/order/", headers=auth, status=200)
    with count_sqlite_statements(_engine(shop)) as log, count_statements(_engine(shop)) as built:
        again = app.get("/api/order/", headers=auth, status=200)
        app.get("/api/order/", headers={**auth, "If-None-Match": first.etag}, status=304)
    assert again.body == first.body
    assert built.statements == []  # read on the driver connection, past SQLAlchemy
    assert len(log.statements) == 2, log.statements  # no BEGIN, no ROLLBACK either
    for statement in log.statements:
        assert "order_list_version" in statement and "FROM users" in statement
        assert "orders" not in statement.replace("order_list_version", "")


def test_a_purchase_and_a_refund_through_one_app_are_seen_by_the_others_next_get(
    app_on: AppOnDatabase,
) -> None:
    writer_app, writer = app_on()
    reader_app, _ = app_on()
    alice, bob, product_id = _shopper(writer), _shopper(writer), _product(writer)
    empty = reader_app.get("/api/order/", headers=alice, status=200)
    assert empty.json == []
    assert reader_app.get("/api/order/", headers=bob, status=200).json == []
    bought = _buy(writer_app, alice, product_id)
    listed = reader_app.get("/api/order/", headers={**alice, "If-None-Match": empty.etag})
    assert (listed.status_int, listed.json) == (200, [bought])
    # Bob's list was kept by the reader too; it is still his, and still empty.
    assert reader_app.get("/api/order/", headers=bob, status=200).json == []
    writer.orders.refund(bought["id"], None)
    refunded = reader_app.get("/api/order/", headers={**alice, "If-None-Match": listed.etag})
    assert refunded.status_int == 200
    assert [o["paymentstatus"] for o in refunded.json] == ["REFUNDED"]
    assert [o["id"] for o in refunded.json] == [bought["id"]]
