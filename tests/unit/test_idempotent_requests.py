"""IdempotentRequests on the in-memory storage: what begin() says about a key, exactly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from framesell.adapters.memory import FixedClock, MemoryUnitOfWorkFactory
from framesell.application.idempotency import IdempotentRequests, KeyedRequest, Start
from framesell.domain.errors import IdempotencyKeyInUse, IdempotencyKeyReused

LOCK = timedelta(seconds=90)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def uow() -> MemoryUnitOfWorkFactory:
    return MemoryUnitOfWorkFactory()


@pytest.fixture
def requests(uow: MemoryUnitOfWorkFactory, clock: FixedClock) -> IdempotentRequests:
    return IdempotentRequests(uow, clock, lock_timeout=LOCK)


def attach_order(uow: MemoryUnitOfWorkFactory, key: str, order_id: int) -> None:
    """What OrderService does when a keyed request creates its order."""
    with uow() as work:
        work.request_keys.attach_order(1, key, order_id)
        work.commit()


def test_an_answered_key_replays_its_order_status_and_body(
    requests: IdempotentRequests, uow: MemoryUnitOfWorkFactory
) -> None:
    assert requests.begin(1, "k", "fp") == KeyedRequest(Start.NEW)
    attach_order(uow, "k", 42)
    requests.answer(1, "k", 201, '{"success": true}')
    assert requests.begin(1, "k", "fp") == KeyedRequest(Start.REPLAY, 42, 201, '{"success": true}')


def test_another_fingerprint_is_reused_and_an_unanswered_key_is_in_use(
    requests: IdempotentRequests,
) -> None:
    requests.begin(1, "k", "fp")
    with pytest.raises(IdempotencyKeyReused):
        requests.begin(1, "k", "other")
    with pytest.raises(IdempotencyKeyInUse):
        requests.begin(1, "k", "fp")


def test_a_stale_lock_is_taken_over_once_and_then_held_again(
    requests: IdempotentRequests, clock: FixedClock
) -> None:
    requests.begin(1, "k", "fp")
    clock.advance(LOCK + timedelta(seconds=1))
    assert requests.begin(1, "k", "fp") == KeyedRequest(Start.NEW)  # the crashed try's key
    # The take-over locked the key anew, from now: a second caller is refused until stale.
    clock.advance(LOCK - timedelta(seconds=1))
    with pytest.raises(IdempotencyKeyInUse):
        requests.begin(1, "k", "fp")
    clock.advance(timedelta(seconds=2))
    assert requests.begin(1, "k", "fp") == KeyedRequest(Start.NEW)


def test_a_released_key_with_an_order_resumes_it(
    requests: IdempotentRequests, uow: MemoryUnitOfWorkFactory
) -> None:
    requests.begin(1, "k", "fp")
    attach_order(uow, "k", 42)
    requests.release(1, "k")
    assert requests.begin(1, "k", "fp") == KeyedRequest(Start.RESUME, 42)
