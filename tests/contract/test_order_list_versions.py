"""The order list version (OrderRepository.list_version and order_list), on every storage adapter.

A process keeps a shopper's encoded order list for as long as this version is unchanged, so
it must change with every change to what the list shows, in the same transaction, and only
for the shopper whose order changed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from framesell.application.ports import UnitOfWork, UnitOfWorkFactory
from framesell.domain.models import DisputeStatus, Order, PaymentStatus, User
from tests.contract.helpers import T0, a_user, an_order, later, save_shopper_and_product

PENDING, PAID, REFUNDED = PaymentStatus.PENDING, PaymentStatus.PAID, PaymentStatus.REFUNDED


def _version(uow_factory: UnitOfWorkFactory, user: User) -> int:
    with uow_factory() as uow:
        version = uow.orders.list_version(user.id or 0)
    assert version is not None
    return version


def _shopper_with_an_order(uow_factory: UnitOfWorkFactory) -> tuple[User, Order]:
    with uow_factory() as uow:
        shopper, product = save_shopper_and_product(uow)
        order = uow.orders.add(an_order(shopper, product))
        uow.commit()
    return shopper, order


def test_an_account_without_orders_has_a_version_and_an_empty_list(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        uow.commit()
    with uow_factory() as uow:
        version = uow.orders.list_version(user.id or 0)
        listed = uow.orders.order_list(user.id or 0)
    assert isinstance(version, int)
    assert listed is not None
    assert (listed.user_id, listed.version, listed.orders) == (user.id, version, ())


def test_an_unknown_account_has_neither_version_nor_list(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.list_version((user.id or 0) + 1000) is None
        assert uow.orders.order_list((user.id or 0) + 1000) is None


def test_the_list_holds_the_shoppers_own_orders_at_the_version_read_with_them(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        shopper, product = save_shopper_and_product(uow)
        other = uow.users.add(a_user())
        first = uow.orders.add(an_order(shopper, product, created_at=later(1)))
        uow.orders.add(an_order(other, product, created_at=later(2)))
        second = uow.orders.add(an_order(shopper, product, created_at=later(3)))
        uow.commit()
    with uow_factory() as uow:
        listed = uow.orders.order_list(shopper.id or 0)
        version = uow.orders.list_version(shopper.id or 0)
    assert listed is not None
    assert listed.user_id == shopper.id
    assert listed.orders == (first.summary(), second.summary())
    assert listed.version == version


def _settle_paid(uow: UnitOfWork, order: Order) -> bool:
    return uow.orders.settle(
        order.id or 0,
        expected=PENDING,
        expected_refunded_cents=0,
        target=PAID,
        refunded_cents=0,
        payment_id=None,
        at=later(1),
    )


CHANGES: dict[str, Callable[[UnitOfWork, Order], object]] = {
    "transition": lambda uow, order: uow.orders.transition(
        order.id or 0, PENDING, PAID, payment_id="pi_versions", at=later(1)
    ),
    "settle": _settle_paid,
    "dispute": lambda uow, order: uow.orders.record_dispute(
        order.id or 0, DisputeStatus.NEEDS_RESPONSE, at=later(1)
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_change_to_an_order_moves_its_shoppers_version_and_no_one_elses(
    uow_factory: UnitOfWorkFactory, change: str
) -> None:
    shopper, order = _shopper_with_an_order(uow_factory)
    bystander, _ = _shopper_with_an_order(uow_factory)
    before, bystanders = _version(uow_factory, shopper), _version(uow_factory, bystander)
    with uow_factory() as uow:
        CHANGES[change](uow, order)
        uow.commit()
    assert _version(uow_factory, shopper) != before
    assert _version(uow_factory, bystander) == bystanders


def test_adding_an_order_moves_the_version(uow_factory: UnitOfWorkFactory) -> None:
    shopper, order = _shopper_with_an_order(uow_factory)
    before = _version(uow_factory, shopper)
    with uow_factory() as uow:
        product = uow.products.get(order.product.product_id)
        assert product is not None
        uow.orders.add(an_order(shopper, product, created_at=later(5)))
        uow.commit()
    assert _version(uow_factory, shopper) != before


def test_a_refund_moves_the_version_again(uow_factory: UnitOfWorkFactory) -> None:
    shopper, order = _shopper_with_an_order(uow_factory)
    with uow_factory() as uow:
        assert _settle_paid(uow, order)
        uow.commit()
    paid = _version(uow_factory, shopper)
    with uow_factory() as uow:
        refunded = uow.orders.settle(
            order.id or 0,
            expected=PAID,
            expected_refunded_cents=0,
            target=REFUNDED,
            refunded_cents=order.amount.cents,
            payment_id=None,
            at=later(2),
        )
        uow.commit()
    assert refunded is True
    assert _version(uow_factory, shopper) != paid
    with uow_factory() as uow:
        listed = uow.orders.order_list(shopper.id or 0)
    assert listed is not None
    assert [o.status for o in listed.orders] == [REFUNDED]


def test_a_swap_that_finds_another_status_leaves_the_version_alone(
    uow_factory: UnitOfWorkFactory,
) -> None:
    shopper, order = _shopper_with_an_order(uow_factory)
    before = _version(uow_factory, shopper)
    with uow_factory() as uow:
        moved = uow.orders.transition(order.id or 0, PAID, REFUNDED, payment_id=None, at=T0)
        settled = uow.orders.settle(
            order.id or 0,
            expected=PAID,
            expected_refunded_cents=0,
            target=REFUNDED,
            refunded_cents=1,
            payment_id=None,
            at=T0,
        )
        uow.commit()
    assert (moved, settled) == (False, False)
    assert _version(uow_factory, shopper) == before


def test_a_change_rolled_back_takes_its_version_with_it(uow_factory: UnitOfWorkFactory) -> None:
    shopper, order = _shopper_with_an_order(uow_factory)
    before = _version(uow_factory, shopper)
    with uow_factory() as uow:
        assert _settle_paid(uow, order)
        assert uow.orders.list_version(shopper.id or 0) != before  # seen inside, not committed
    assert _version(uow_factory, shopper) == before
    with uow_factory() as uow:
        listed = uow.orders.order_list(shopper.id or 0)
    assert listed is not None
    assert (listed.version, [o.status for o in listed.orders]) == (before, [PENDING])
