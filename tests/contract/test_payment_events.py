"""The PaymentEventRepository contract (gateway events applied once), on every storage adapter."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from framesell.application.ports import UnitOfWorkFactory
from tests.contract.helpers import T0, a_user, later, unique
from tests.contract.racing import race_in_transactions

SUCCEEDED = "payment_intent.succeeded"


def an_event_id() -> str:
    """A unique Stripe-like event id."""
    return f"evt_{unique()}"


def test_a_new_event_is_recorded(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.payment_events.add(an_event_id(), SUCCEEDED, T0) is True


def test_an_event_recorded_before_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    event_id = an_event_id()
    with uow_factory() as uow:
        first = uow.payment_events.add(event_id, SUCCEEDED, T0)
        uow.commit()
    with uow_factory() as uow:
        again = uow.payment_events.add(event_id, SUCCEEDED, later(1))
        of_another_type = uow.payment_events.add(event_id, "charge.refunded", later(2))
    assert (first, again, of_another_type) == (True, False, False)


def test_a_recorded_event_is_known_and_another_is_not(uow_factory: UnitOfWorkFactory) -> None:
    event_id = an_event_id()
    with uow_factory() as uow:
        uow.payment_events.add(event_id, SUCCEEDED, T0)
        uow.commit()
    with uow_factory() as uow:
        assert uow.payment_events.contains(event_id) is True
        assert uow.payment_events.contains(event_id.upper()) is False
        assert uow.payment_events.contains(an_event_id()) is False


def test_an_event_is_refused_a_second_time_in_the_same_transaction(
    uow_factory: UnitOfWorkFactory,
) -> None:
    event_id = an_event_id()
    with uow_factory() as uow:
        results = [uow.payment_events.add(event_id, SUCCEEDED, T0) for _ in range(2)]
    assert results == [True, False]


def test_an_event_id_differing_only_in_case_is_another_event(
    uow_factory: UnitOfWorkFactory,
) -> None:
    event_id = f"evt_{unique()}Abc"
    with uow_factory() as uow:
        results = [uow.payment_events.add(e, SUCCEEDED, T0) for e in (event_id, event_id.upper())]
    assert results == [True, True]


def test_a_refused_duplicate_leaves_the_transaction_usable_and_committable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    seen, next_one = an_event_id(), an_event_id()
    with uow_factory() as uow:
        uow.payment_events.add(seen, SUCCEEDED, T0)
        uow.commit()
    with uow_factory() as uow:
        before = uow.users.add(a_user())
        refused = uow.payment_events.add(seen, SUCCEEDED, later(1))
        recorded = uow.payment_events.add(next_one, SUCCEEDED, later(1))
        after = uow.users.add(a_user())
        uow.commit()
    with uow_factory() as uow:
        assert (refused, recorded) == (False, True)
        assert uow.users.get(before.id or 0) == before
        assert uow.users.get(after.id or 0) == after
        assert uow.payment_events.add(next_one, SUCCEEDED, later(2)) is False


def test_an_event_not_committed_is_forgotten(uow_factory: UnitOfWorkFactory) -> None:
    event_id = an_event_id()
    with uow_factory() as uow:
        uow.payment_events.add(event_id, SUCCEEDED, T0)
    with uow_factory() as uow:
        assert uow.payment_events.add(event_id, SUCCEEDED, later(1)) is True


def test_of_eight_racing_deliveries_of_one_event_exactly_one_records_it_on_sql(
    sql_engine: Engine,
) -> None:
    # The memory store runs one unit of work at a time, so only SQL can lose this race.
    event_id = an_event_id()

    results = race_in_transactions(
        sql_engine, 8, lambda uow: uow.payment_events.add(event_id, SUCCEEDED, T0)
    )

    assert sorted(results) == [False] * 7 + [True]
