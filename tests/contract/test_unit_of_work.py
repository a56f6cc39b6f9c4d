"""The UnitOfWork contract: transactions that roll back unless committed, on every adapter."""

from __future__ import annotations

import pytest

from framesell.application.ports import UnitOfWorkFactory
from tests.contract.helpers import a_product, a_user


def test_work_not_committed_is_rolled_back_on_exit(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        product = uow.products.add(a_product())
    with uow_factory() as uow:
        assert uow.users.get_by_email(user.email) is None
        assert uow.products.get(product.id or 0) is None
        assert uow.products.list_active() == []


def test_committed_work_is_visible_to_a_new_unit_of_work(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        uow.commit()
    with uow_factory() as uow:
        assert uow.users.get(user.id or 0) == user


def test_an_exception_in_the_block_rolls_back_and_propagates(
    uow_factory: UnitOfWorkFactory,
) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), uow_factory() as uow:
        user = uow.users.add(a_user())
        raise Boom
    with uow_factory() as uow:
        assert uow.users.get_by_email(user.email) is None


def test_work_after_a_commit_is_rolled_back_without_a_second_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        kept = uow.users.add(a_user())
        uow.commit()
        lost = uow.users.add(a_user())
    with uow_factory() as uow:
        assert uow.users.get_by_email(kept.email) == kept
        assert uow.users.get_by_email(lost.email) is None


def test_rollback_discards_the_work_since_the_last_commit(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        kept = uow.users.add(a_user())
        uow.commit()
        lost = uow.users.add(a_user())
        uow.rollback()
        assert uow.users.get_by_email(lost.email) is None
        after = uow.users.add(a_user())
        uow.commit()
    with uow_factory() as uow:
        assert uow.users.get_by_email(kept.email) == kept
        assert uow.users.get_by_email(lost.email) is None
        assert uow.users.get_by_email(after.email) == after


def test_each_call_of_the_factory_gives_a_fresh_unit_of_work(
    uow_factory: UnitOfWorkFactory,
) -> None:
    assert uow_factory() is not uow_factory()
