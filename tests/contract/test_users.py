"""The UserRepository contract, run against every storage adapter."""

from __future__ import annotations

import pytest

from framesell.application.ports import UnitOfWorkFactory
from framesell.domain.errors import EmailTaken
from tests.contract.helpers import a_user, unique


def test_an_added_user_gets_an_id_and_reads_back_the_same(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        stored = uow.users.add(a_user(first_name="Zoë", last_name="O'Brien"))
        assert stored.id is not None
        assert uow.users.get(stored.id) == stored
        assert uow.users.get_by_email(stored.email) == stored


def test_two_users_get_different_ids(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        first, second = uow.users.add(a_user()), uow.users.add(a_user())
    assert first.id != second.id


def test_an_unknown_user_is_none(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.users.get(987_654) is None
        assert uow.users.get_by_email(f"nobody-{unique()}@example.com") is None


def test_a_user_is_found_by_email_in_any_case_and_with_blanks(
    uow_factory: UnitOfWorkFactory,
) -> None:
    email = f"case-{unique()}@example.com"
    with uow_factory() as uow:
        stored = uow.users.add(a_user(email))
        assert uow.users.get_by_email(f"  {email.upper()} ") == stored


def test_an_email_is_stored_normalized(uow_factory: UnitOfWorkFactory) -> None:
    tag = unique()
    with uow_factory() as uow:
        stored = uow.users.add(a_user(f" Mixed-{tag}@Example.COM "))
        assert stored.email == f"mixed-{tag}@example.com"
        assert uow.users.get_by_email(f"mixed-{tag}@example.com") == stored


def test_an_email_taken_in_another_case_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    email = f"taken-{unique()}@example.com"
    with uow_factory() as uow:
        uow.users.add(a_user(email))
        with pytest.raises(EmailTaken):
            uow.users.add(a_user(email.upper()))


def test_an_email_taken_by_a_committed_user_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    email = f"taken-{unique()}@example.com"
    with uow_factory() as uow:
        uow.users.add(a_user(email))
        uow.commit()
    with uow_factory() as uow, pytest.raises(EmailTaken):
        uow.users.add(a_user(email))


def test_a_refused_email_leaves_the_transaction_usable(uow_factory: UnitOfWorkFactory) -> None:
    email = f"taken-{unique()}@example.com"
    with uow_factory() as uow:
        first = uow.users.add(a_user(email))
        with pytest.raises(EmailTaken):
            uow.users.add(a_user(email))
        second = uow.users.add(a_user())
        uow.commit()
    with uow_factory() as uow:
        assert uow.users.get(first.id or 0) == first
        assert uow.users.get(second.id or 0) == second


def test_emails_differing_only_by_an_accent_are_different_accounts(
    uow_factory: UnitOfWorkFactory,
) -> None:
    tag = unique()
    with uow_factory() as uow:
        plain = uow.users.add(a_user(f"jose-{tag}@example.com"))
        accented = uow.users.add(a_user(f"josé-{tag}@example.com"))
        assert plain.id != accented.id
        assert uow.users.get_by_email(f"josé-{tag}@example.com") == accented


def test_a_password_hash_can_be_replaced(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        uow.users.update_password_hash(user.id or 0, "fake$2$salt$newer")
        uow.commit()
    with uow_factory() as uow:
        reread = uow.users.get(user.id or 0)
    assert reread is not None
    assert reread.password_hash == "fake$2$salt$newer"
    assert reread.email == user.email


def test_admin_rights_can_be_granted_and_revoked(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        assert user.is_admin is False
        uow.users.set_admin(user.id or 0, True)
        granted = uow.users.get(user.id or 0)
        uow.users.set_admin(user.id or 0, False)
        revoked = uow.users.get(user.id or 0)
    assert granted is not None and granted.is_admin is True
    assert revoked is not None and revoked.is_admin is False


def test_an_admin_can_be_added_as_such(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        admin = uow.users.add(a_user(is_admin=True))
        reread = uow.users.get(admin.id or 0)
    assert reread is not None and reread.is_admin is True
