"""The RequestKeyRepository contract (clients' Idempotency-Keys), on every storage adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Engine

from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from framesell.application.ports import UnitOfWork, UnitOfWorkFactory
from framesell.domain.records import RequestRecord
from tests.contract.helpers import T0, a_user, later, save_order, unique
from tests.contract.racing import race_in_transactions

FINGERPRINT = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def a_record(user_id: int, key: str | None = None, **changes: object) -> RequestRecord:
    """An unanswered, unlocked record of a unique key, created at T0."""
    record = RequestRecord(
        user_id=user_id, key=key or f"key-{unique()}", fingerprint=FINGERPRINT, created_at=T0
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def save_key(uow: UnitOfWork, **changes: object) -> RequestRecord:
    """Store a new shopper and a record of a unique key of theirs."""
    user = uow.users.add(a_user())
    record = a_record(user.id or 0, **changes)
    assert uow.request_keys.add(record) is True
    return record


def take(uow: UnitOfWork, record: RequestRecord, *, stale_before: datetime, now: datetime) -> bool:
    """Try to take over the record's key."""
    return uow.request_keys.take_over(
        record.user_id, record.key, stale_before=stale_before, now=now
    )


def test_an_added_key_reads_back_the_same(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        record = save_key(uow, locked_at=later(1))
        uow.commit()
    with uow_factory() as uow:
        reread = uow.request_keys.get(record.user_id, record.key)
    assert reread == record
    assert reread is not None and reread.answered is False


def test_a_record_with_every_field_set_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        record = save_key(
            uow,
            locked_at=later(2),
            order_id=order.id,
            response_status=201,
            response_body='{"id": 1, "status": "PAID"}',
        )
        uow.commit()
    with uow_factory() as uow:
        assert uow.request_keys.get(record.user_id, record.key) == record


def test_an_unknown_key_is_none(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        record = save_key(uow)
        other = uow.users.add(a_user())
        assert uow.request_keys.get(record.user_id, f"key-{unique()}") is None
        assert uow.request_keys.get(other.id or 0, record.key) is None


def test_a_key_the_shopper_already_used_is_refused_and_the_first_record_kept(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        first = save_key(uow)
        uow.commit()
    with uow_factory() as uow:
        again = a_record(first.user_id, first.key, fingerprint="0" * 64, created_at=later(5))
        added = uow.request_keys.add(again)
        reread = uow.request_keys.get(first.user_id, first.key)
    assert added is False
    assert reread == first


def test_the_same_key_is_allowed_for_another_shopper(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        first = save_key(uow)
        other = uow.users.add(a_user())
        added = uow.request_keys.add(a_record(other.id or 0, first.key))
        uow.commit()
    with uow_factory() as uow:
        mine = uow.request_keys.get(first.user_id, first.key)
        theirs = uow.request_keys.get(other.id or 0, first.key)
    assert added is True
    assert mine == first
    assert theirs == a_record(other.id or 0, first.key)


def test_a_key_differing_only_in_case_is_another_key(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        first = save_key(uow, key=f"Key-{unique()}")
        added = uow.request_keys.add(a_record(first.user_id, first.key.lower()))
        lower = uow.request_keys.get(first.user_id, first.key.lower())
    assert added is True
    assert lower is not None and lower.key == first.key.lower()


def test_a_refused_duplicate_leaves_the_transaction_usable_and_committable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        first = save_key(uow)
        uow.commit()
    with uow_factory() as uow:
        before = save_key(uow)
        refused = uow.request_keys.add(a_record(first.user_id, first.key))
        after = save_key(uow)
        uow.commit()
    with uow_factory() as uow:
        assert refused is False
        assert uow.request_keys.get(before.user_id, before.key) == before
        assert uow.request_keys.get(after.user_id, after.key) == after


def test_a_key_not_committed_is_forgotten(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        record = save_key(uow)
        uow.commit()
        unsaved = a_record(record.user_id)
        assert uow.request_keys.add(unsaved) is True
    with uow_factory() as uow:
        assert uow.request_keys.get(unsaved.user_id, unsaved.key) is None
        assert uow.request_keys.add(unsaved) is True


def test_a_free_lock_is_taken(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        record = save_key(uow)
        taken = take(uow, record, stale_before=later(-5), now=later(1))
        uow.commit()
    with uow_factory() as uow:
        reread = uow.request_keys.get(record.user_id, record.key)
    assert taken is True
    assert reread == replace(record, locked_at=later(1))


def test_a_fresh_lock_is_not_taken(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        record = save_key(uow, locked_at=later(1))
        newer = take(uow, record, stale_before=later(0), now=later(2))
        same_age = take(uow, record, stale_before=later(1), now=later(2))
        reread = uow.request_keys.get(record.user_id, record.key)
    assert (newer, same_age) == (False, False)
    assert reread == record


def test_a_stale_lock_is_taken_over(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        record = save_key(uow, locked_at=later(1))
        taken = take(uow, record, stale_before=later(2), now=later(7))
        reread = uow.request_keys.get(record.user_id, record.key)
    assert taken is True
    assert reread == replace(record, locked_at=later(7))


def test_a_lock_just_taken_is_not_taken_again(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        record = save_key(uow)
        first = take(uow, record, stale_before=later(-5), now=later(1))
        second = take(uow, record, stale_before=later(-4), now=later(2))
    assert (first, second) == (True, False)


def test_an_answered_key_is_never_taken_over(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        unlocked = save_key(uow, response_status=201, response_body="{}")
        stale = save_key(uow, locked_at=T0, response_status=402, response_body="{}")
        results = [take(uow, r, stale_before=later(60), now=later(61)) for r in (unlocked, stale)]
        reread = uow.request_keys.get(stale.user_id, stale.key)
    assert results == [False, False]
    assert reread == stale


def test_an_unknown_key_is_not_taken_over(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        taken = uow.request_keys.take_over(
            user.id or 0, f"key-{unique()}", stale_before=later(1), now=later(2)
        )
    assert taken is False


def test_the_order_a_request_created_is_attached_to_its_key(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        record = save_key(uow, locked_at=later(1))
        order = save_order(uow)
        uow.request_keys.attach_order(record.user_id, record.key, order.id or 0)
        uow.commit()
    with uow_factory() as uow:
        reread = uow.request_keys.get(record.user_id, record.key)
    assert reread == replace(record, order_id=order.id)


def test_an_answer_is_stored_for_replay_and_frees_the_lock(
    uow_factory: UnitOfWorkFactory,
) -> None:
    body = '{"status": "FAILED", "message": "Your card was declined."}'
    with uow_factory() as uow:
        record = save_key(uow, locked_at=later(1))
        uow.request_keys.answer(record.user_id, record.key, 402, body)
        uow.commit()
    with uow_factory() as uow:
        reread = uow.request_keys.get(record.user_id, record.key)
    assert reread == replace(record, locked_at=None, response_status=402, response_body=body)
    assert reread is not None and reread.answered is True


def test_a_large_answer_with_non_ascii_text_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    # 40 000 two-byte characters: more than a MySQL TEXT column's 65 535 bytes.
    body = '{"description": "' + "é" * 40_000 + '"}'
    with uow_factory() as uow:
        record = save_key(uow, locked_at=later(1))
        uow.request_keys.answer(record.user_id, record.key, 201, body)
        uow.commit()
    with uow_factory() as uow:
        reread = uow.request_keys.get(record.user_id, record.key)
    assert reread is not None and reread.response_body == body


def test_a_released_lock_may_be_taken_again_at_once(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        record = save_key(uow, locked_at=later(1))
        uow.request_keys.release(record.user_id, record.key)
        released = uow.request_keys.get(record.user_id, record.key)
        taken = take(uow, record, stale_before=later(0), now=later(2))
    assert released == replace(record, locked_at=None)
    assert taken is True


def test_keys_created_before_the_cutoff_are_purged(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        old = save_key(uow, created_at=later(-30))
        older = save_key(uow, created_at=later(-60), response_status=201, response_body="{}")
        at_cutoff = save_key(uow, created_at=later(0))
        young = save_key(uow, created_at=later(30))
        uow.commit()
    with uow_factory() as uow:
        purged = uow.request_keys.purge(later(0))
        uow.commit()
    with uow_factory() as uow:
        left = [uow.request_keys.get(r.user_id, r.key) for r in (old, older, at_cutoff, young)]
        nothing_more = uow.request_keys.purge(later(0))
    assert purged == 2
    assert left == [None, None, at_cutoff, young]
    assert nothing_more == 0


def test_a_purged_key_may_be_used_again(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        record = save_key(uow, response_status=201, response_body="{}")
        uow.request_keys.purge(later(1))
        added = uow.request_keys.add(a_record(record.user_id, record.key, created_at=later(2)))
    assert added is True


# The memory store runs one unit of work at a time, so only SQL can lose these races.


def test_of_eight_racing_requests_with_one_key_exactly_one_stores_it_on_sql(
    sql_engine: Engine,
) -> None:
    factory = SqlUnitOfWorkFactory(sql_engine)
    with factory() as uow:
        user = uow.users.add(a_user())
        uow.commit()
    record = a_record(user.id or 0)

    results = race_in_transactions(sql_engine, 8, lambda uow: uow.request_keys.add(record))

    assert sorted(results) == [False] * 7 + [True]
    with factory() as uow:
        assert uow.request_keys.get(record.user_id, record.key) == record


def test_of_eight_racing_take_overs_of_a_stale_lock_exactly_one_wins_on_sql(
    sql_engine: Engine,
) -> None:
    factory = SqlUnitOfWorkFactory(sql_engine)
    with factory() as uow:
        record = save_key(uow, locked_at=T0)
        uow.commit()

    results = race_in_transactions(
        sql_engine, 8, lambda uow: take(uow, record, stale_before=later(5), now=later(6))
    )

    assert sorted(results) == [False] * 7 + [True]
    with factory() as uow:
        reread = uow.request_keys.get(record.user_id, record.key)
    assert reread == replace(record, locked_at=later(6))
