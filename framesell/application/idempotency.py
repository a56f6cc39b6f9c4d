"""Client Idempotency-Keys: a repeated request is answered once, across every app process."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from framesell.application.orders import OrderService, Placement, Purchase
from framesell.application.ports import Clock, PaymentOutcome, UnitOfWorkFactory
from framesell.application.throttles import PaymentFailureLimit
from framesell.application.transactions import retrying
from framesell.domain.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from framesell.domain.models import PaymentStatus
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


@dataclass(frozen=True)
class Answer:
    """A rendered response to store and replay: its status code and body, opaque here."""

    status: int
    body: str


@dataclass(frozen=True)
class PlacedOnce:
    """What a keyed purchase gives the caller: a fresh placement, or a stored answer."""

    placement: Placement | None = None
    replayed: Answer | None = None


class PlaceOrderOnce:
    """Buy once per Idempotency-Key: claim the key, replay, resume or place, then either
    store the answer or — when the gateway could not say how the payment went — release
    the key so that a retry continues the same order under the same payment key.

    With a PaymentFailureLimit, a shopper or address over its allowance of declines is
    refused (TooManyAttempts) before the gateway is asked, and a failed order is counted.
    """

    def __init__(
        self,
        orders: OrderService,
        requests: IdempotentRequests,
        failures: PaymentFailureLimit | None = None,
    ) -> None:
        self._orders = orders
        self._requests = requests
        self._failures = failures

    def __call__(
        self,
        user_id: int,
        purchase: Purchase,
        payment_token: str,
        *,
        key: str | None,
        fingerprint: str,
        render: Callable[[Placement], Answer],
        client_address: str | None = None,
    ) -> PlacedOnce:
        """Place (or continue) the order; ``render`` makes the answer stored for replays."""
        if key is None:
            self._refuse_card_testing(user_id, client_address)
            placement = self._orders.place_cart(
                user_id, list(purchase.lines), payment_token, purchase.shipping
            )
            return PlacedOnce(self._counted(placement, client_address))
        started = self._requests.begin(user_id, key, fingerprint)
        if started.start is Start.REPLAY:
            return PlacedOnce(replayed=Answer(started.status or 500, started.body or ""))
        try:
            self._refuse_card_testing(user_id, client_address)
            if started.start is Start.RESUME and started.order_id is not None:
                placement = self._orders.resume(user_id, started.order_id)
            else:
                placement = self._orders.place_cart(
                    user_id,
                    list(purchase.lines),
                    payment_token,
                    purchase.shipping,
                    request_key=key,
                )
            placement = self._counted(placement, client_address)
        except BaseException:
            self._requests.release(user_id, key)
            raise
        if is_final(placement):
            answer = render(placement)
            self._requests.answer(user_id, key, answer.status, answer.body)
        else:
            self._requests.release(user_id, key)  # a retry must continue this order
        return PlacedOnce(placement)

    def _refuse_card_testing(self, user_id: int, client_address: str | None) -> None:
        if self._failures is not None:
            self._failures.refuse_if_exceeded(user_id, client_address)

    def _counted(self, placement: Placement, client_address: str | None) -> Placement:
        if self._failures is not None:
            self._failures.count(placement.order, client_address)
        return placement


def is_final(placement: Placement) -> bool:
    """Whether an answer may be replayed: anything but "the gateway could not say".

    A PENDING order is final only while it waits for the shopper (3-D Secure) or for the
    gateway to settle a payment it accepted.
    """
    return placement.order.status is not PaymentStatus.PENDING or placement.outcome in (
        PaymentOutcome.REQUIRES_ACTION,
        PaymentOutcome.PENDING,
    )
