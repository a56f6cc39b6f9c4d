"""Client Idempotency-Keys: a repeated request is answered once, across every app process."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from framesell.application.ports import Clock, UnitOfWorkFactory
from framesell.application.transactions import retrying
from framesell.domain.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from framesell.domain.records import RequestRecord

MAX_KEY_LENGTH = 255


class Start(enum.Enum):
    """How a keyed request begins."""

    NEW = "new"  # first time: do the work
    RESUME = "resume"  # an earlier try stopped before answering: continue its order
    REPLAY = "replay"  # answered before: send the stored response


@dataclass(frozen=True)
class KeyedRequest:
    """What to do with a request that carries an Idempotency-Key."""

    start: Start
    order_id: int | None = None
    status: int | None = None
    body: str | None = None


class IdempotentRequests:
    """Remembers each user's Idempotency-Keys and the first answer given to each."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        lock_timeout: timedelta = timedelta(seconds=90),
        keep_for: timedelta = timedelta(hours=24),
    ) -> None:
        self._uow = uow
        self._clock = clock
        # Longer than the slowest request (payment timeout times tries); after it a crashed
        # process's lock may be taken over.
        self._lock_timeout = lock_timeout
        self._keep_for = keep_for

    def begin(self, user_id: int, key: str, fingerprint: str) -> KeyedRequest:
        """Claim the key; raise IdempotencyKeyReused (422) or IdempotencyKeyInUse (409)."""
        now = self._clock.now()
        record = RequestRecord(user_id, key, fingerprint, created_at=now, locked_at=now)
        for transaction in retrying(self._uow):
            with transaction as uow:
                added = uow.request_keys.add(record)
                uow.commit()
        if added:
            return KeyedRequest(Start.NEW)
        for transaction in retrying(self._uow):
            with transaction as uow:
                existing = uow.request_keys.get(user_id, key)
                if existing is None:  # purged between the two transactions
                    raise IdempotencyKeyInUse()
                if existing.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                if existing.answered:
                    return KeyedRequest(
                        Start.REPLAY,
                        existing.order_id,
                        existing.response_status,
                        existing.response_body,
                    )
                taken = uow.request_keys.take_over(
                    user_id, key, stale_before=now - self._lock_timeout, now=now
                )
                uow.commit()
                order_id = existing.order_id
        if not taken:
            raise IdempotencyKeyInUse()
        return KeyedRequest(Start.RESUME if order_id else Start.NEW, order_id)

    def answer(self, user_id: int, key: str, status: int, body: str) -> None:
        """Store the final response, to be replayed for every repeat of the key."""
        for transaction in retrying(self._uow):
            with transaction as uow:
                uow.request_keys.answer(user_id, key, status, body)
                uow.commit()

    def release(self, user_id: int, key: str) -> None:
        """Give up the key without an answer, so a retry with it continues the work."""
        for transaction in retrying(self._uow):
            with transaction as uow:
                uow.request_keys.release(user_id, key)
                uow.commit()

    def purge(self) -> int:
        """Delete keys older than the keeping period; return how many."""
        for transaction in retrying(self._uow):
            with transaction as uow:
                count = uow.request_keys.purge(self._clock.now() - self._keep_for)
                uow.commit()
        return count
