"""OutboxRepository and PasswordResetRepository on every storage adapter."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from framesell.application.ports import UnitOfWork, UnitOfWorkFactory
from framesell.domain.mail import Mail, OutboxMessage, PasswordReset
from tests.contract.helpers import T0, a_user, unique
from tests.contract.racing import race_in_transactions


def a_message(key: str = "", at: object = T0) -> OutboxMessage:
    """An unsaved mail with a unique key."""
    mail = Mail("ada@example.com", "Paid “Brücke”", "text\n", "<p>html</p>")
    return OutboxMessage(None, key or f"order-{unique()}-paid", mail, at)  # type: ignore[arg-type]


def test_a_key_is_queued_once_and_the_duplicate_leaves_the_transaction_usable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    message = a_message()
    with uow_factory() as uow:
        assert uow.outbox.add(message) is True
        assert uow.outbox.add(message) is False
        assert uow.outbox.add(a_message()) is True
        uow.commit()
    with uow_factory() as uow:
        due = uow.outbox.due(T0, 10)
    assert len(due) == 2 and due[0].key == message.key
    assert due[0].mail == message.mail and due[0].tries == 0 and due[0].sent_at is None


def test_a_claimed_message_is_not_due_until_its_claim_ends_and_a_sent_one_never(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        uow.outbox.add(a_message())
        uow.commit()
    with uow_factory() as uow:
        (message,) = uow.outbox.due(T0, 10)
        assert message.id is not None
        assert uow.outbox.claim(message.id, until=T0 + timedelta(minutes=2), now=T0) is True
        assert uow.outbox.claim(message.id, until=T0 + timedelta(minutes=2), now=T0) is False
        assert uow.outbox.due(T0 + timedelta(minutes=1), 10) == []
        uow.outbox.retry_later(message.id, at=T0 + timedelta(minutes=5))
        (again,) = uow.outbox.due(T0 + timedelta(minutes=5), 10)
        assert again.tries == 1
        uow.outbox.mark_sent(message.id, T0 + timedelta(minutes=5))
        assert uow.outbox.due(T0 + timedelta(days=1), 10) == []
        later = T0 + timedelta(days=1)
        assert uow.outbox.claim(message.id, until=later, now=later) is False
        uow.commit()


def test_of_eight_racing_senders_one_claims_a_message_on_sql(sql_engine: Engine) -> None:
    factory = SqlUnitOfWorkFactory(sql_engine)
    with factory() as uow:
        uow.outbox.add(a_message())
        uow.commit()
        (message,) = uow.outbox.due(T0, 1)
    assert message.id is not None
    message_id = message.id

    def claim(uow: UnitOfWork) -> bool:
        return uow.outbox.claim(message_id, until=T0 + timedelta(minutes=2), now=T0)

    # On Galera a racer that loses at commit runs again and finds the message taken.
    assert sorted(race_in_transactions(sql_engine, 8, claim)) == [False] * 7 + [True]


def test_a_reset_token_is_found_by_its_hash_and_used_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # Always some letters, so that the upper-case lookup below differs from the stored hash
    # (twelve random hex digits are all decimal digits about once in 280 runs).
    digest = f"{unique()}abcdef".ljust(64, "0")
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        assert user.id is not None
        stored = uow.password_resets.add(
            PasswordReset(None, user.id, digest, T0, T0 + timedelta(hours=1))
        )
        uow.commit()
    assert stored.id is not None
    with uow_factory() as uow:
        found = uow.password_resets.get_by_hash(digest)
        assert found == stored
        assert uow.password_resets.get_by_hash(digest.upper()) is None
        assert uow.password_resets.use(stored.id, T0) is True
        assert uow.password_resets.use(stored.id, T0) is False
        uow.commit()
    with uow_factory() as uow:
        used = uow.password_resets.get_by_hash(digest)
    assert used is not None and used.used_at == T0 and not used.usable_at(T0)
