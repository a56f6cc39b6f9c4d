"""On SQLite: the catalog kept in memory per process, and a constant cost of listing orders."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from webtest import TestApp

from framesell.adapters.memory import FixedClock
from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from framesell.application.catalog import DEFAULT_RECHECK
from framesell.bootstrap import Shop, bootstrap
from framesell.domain.money import Money
from framesell.entrypoints.http import make_app
from framesell.settings import Settings
from tests.api.conftest import PASSWORD, SETTINGS, unique_email
from tests.contract.helpers import a_product, an_order, later
from tests.fixtures.database import count_statements

RECHECK_SECONDS = DEFAULT_RECHECK.total_seconds()


def wait_for(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.05)

AppOnDatabase = Callable[..., tuple[TestApp, Shop]]


@pytest.fixture
def app_on(sqlite_url: str) -> AppOnDatabase:
    """Build one app (as one process would) on the test's SQLite file; call it twice for two."""

    def build(clock: FixedClock | None = None) -> tuple[TestApp, Shop]:
        settings = {**SETTINGS, "framesell.storage": "sql", "framesell.database_url": sqlite_url}
        shop = bootstrap(Settings.from_mapping(settings, environ={}), clock=clock)
        return TestApp(make_app(shop, settings)), shop

    return build


def _engine(shop: Shop) -> Any:
    uow = shop.uow
    assert isinstance(uow, SqlUnitOfWorkFactory)
    return uow.engine


def _put_on_sale(shop: Shop, description: str = "Brooklyn Bridge") -> int:
    product = shop.catalog.add_product(
        description, "https://photos.example.com/p.jpg", Money.from_major("59.99")
    )
    assert product.id is not None
    return product.id


def test_an_unchanged_catalog_is_served_and_revalidated_without_touching_the_database(
    app_on: AppOnDatabase,
) -> None:
    clock = FixedClock()
    app, shop = app_on(clock)
    product_id = _put_on_sale(shop)
    first = app.get("/api/product/", status=200)
    one = app.get(f"/api/product/{product_id}/", status=200)
    with count_statements(_engine(shop)) as log:
        not_modified = app.get(
            "/api/product/", headers={"If-None-Match": first.headers["ETag"]}, status=304
        )
        again = app.get("/api/product/", status=200)
        app.get(f"/api/product/{product_id}/", headers={"If-None-Match": one.etag}, status=304)
    assert log.statements == []
    assert not_modified.body == b""
    assert not_modified.headers["ETag"] == first.headers["ETag"]
    assert again.body == first.body
    # Once the recheck interval has passed, one primary-key read of the version is all.
    clock.advance(timedelta(seconds=1))
    with count_statements(_engine(shop)) as log:
        app.get("/api/product/", headers={"If-None-Match": first.headers["ETag"]}, status=304)
    assert len(log.statements) == 1
    assert "catalog_version" in log.statements[0]


def test_a_catalog_change_through_one_process_is_seen_by_another_within_a_second(
    app_on: AppOnDatabase,
) -> None:
    writer_app, writer = app_on()
    reader_app, _ = app_on()
    product_id = _put_on_sale(writer, "Before")
    before = reader_app.get("/api/product/", status=200)
    assert [p["description"] for p in before.json] == ["Before"]
    writer.catalog.update_product(
        product_id, "After", "https://photos.example.com/p.jpg", Money.from_major("10")
    )
    changed_at = time.monotonic()
    # The writing process sees its own change at once.
    assert writer_app.get("/api/product/").json[0]["description"] == "After"
    # The reader sees it on its first request after one recheck interval: that is the rule
    # (every process asks the database at most once per interval). Waiting for the interval
    # and then asking once is exact; timing how long polling took would measure the machine.
    time.sleep(max(0.0, changed_at + RECHECK_SECONDS + 0.05 - time.monotonic()))
    answer = reader_app.get("/api/product/", headers={"If-None-Match": before.etag})
    assert answer.status_int == 200
    assert [p["description"] for p in answer.json] == ["After"]
    # A withdrawal travels the same way, to the list and to the product's own page.
    writer.catalog.withdraw_product(product_id)
    wait_for(lambda: reader_app.get("/api/product/", status=200).json == [], "the withdrawal")
    reader_app.get(f"/api/product/{product_id}/", status=404)


def _statements_to_list_orders(app_on: AppOnDatabase, how_many: int) -> tuple[int, int]:
    app, shop = app_on()
    email = unique_email()
    shopper = shop.users.register(
        first_name="Foo", last_name="Bar", email=email, password=PASSWORD
    )
    token = shop.users.log_in(email, PASSWORD)
    with shop.uow() as uow:
        product = uow.products.add(a_product())
        for minute in range(how_many):
            uow.orders.add(an_order(shopper, product, created_at=later(minute)))
        uow.commit()
    with count_statements(_engine(shop)) as log:
        listed = app.get("/api/order/", headers={"Authorization": f"JWT {token}"}, status=200)
    return len(listed.json), log.count


def test_listing_orders_over_http_takes_as_many_statements_for_20_orders_as_for_1(
    app_on: AppOnDatabase,
) -> None:
    (one, for_one), (twenty, for_twenty) = (
        _statements_to_list_orders(app_on, n) for n in (1, 20)
    )
    assert (one, twenty) == (1, 20)
    # The caller's account and its orders: one SELECT (a LEFT JOIN), whatever the count.
    assert for_one == for_twenty == 1


def test_a_purchase_looks_the_caller_up_once(app_on: AppOnDatabase) -> None:
    app, shop = app_on()
    product_id = _put_on_sale(shop)
    email = unique_email()
    shop.users.register(first_name="Foo", last_name="Bar", email=email, password=PASSWORD)
    token = shop.users.log_in(email, PASSWORD)
    with count_statements(_engine(shop)) as log:
        app.post_json(
            "/api/order/",
            {"product": product_id, "token": "tok_visa"},
            headers={"Authorization": f"JWT {token}", "Idempotency-Key": "one-lookup"},
            status=201,
        )
    # The validator and the view both need the caller: one SELECT serves both. (Once paid,
    # the settling transaction reads the account again for the confirmation mail's address.)
    saved = next(i for i, s in enumerate(log.statements) if s.startswith("INSERT INTO orders"))
    before_saving = log.statements[:saved]
    user_reads = [s for s in before_saving if s.startswith("SELECT") and "FROM users" in s]
    assert len(user_reads) == 1, user_reads


def _statements_for_the_owners_page(app_on: AppOnDatabase, how_many: int) -> tuple[int, int]:
    app, shop = app_on()
    admin_email = unique_email("admin")
    shop.users.register(
        first_name="Ada", last_name="Admin", email=admin_email, password=PASSWORD, is_admin=True
    )
    token = shop.users.log_in(admin_email, PASSWORD)
    shopper = shop.users.register(
        first_name="Foo", last_name="Bar", email=unique_email(), password=PASSWORD
    )
    with shop.uow() as uow:
        product = uow.products.add(a_product())
        for minute in range(how_many):
            uow.orders.add(an_order(shopper, product, created_at=later(minute)))
        uow.commit()
    with count_statements(_engine(shop)) as log:
        listed = app.get(
            "/api/admin/orders/",
            {"per_page": "100", "status": "PENDING", "q": shopper.email},
            headers={"Authorization": f"JWT {token}"},
            status=200,
        )
    return len(listed.json["orders"]), log.count


def test_the_owners_order_list_takes_as_many_statements_for_50_orders_as_for_1(
    app_on: AppOnDatabase,
) -> None:
    (one, for_one), (fifty, for_fifty) = (
        _statements_for_the_owners_page(app_on, n) for n in (1, 50)
    )
    assert (one, fifty) == (1, 50)
    # The admin's account, the COUNT and the page: three SELECTs, whatever the page holds.
    assert for_one == for_fifty == 3
