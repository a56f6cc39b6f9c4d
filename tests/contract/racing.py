"""Running one piece of work on several threads at once, to prove a compare-and-swap."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Engine

from framesell.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from framesell.application.ports import UnitOfWork
from framesell.application.transactions import retrying

T = TypeVar("T")

RACE_TIMEOUT_SECONDS = 60.0


def race(threads: int, work: Callable[[Callable[[], None]], T]) -> list[T]:
    """Run ``work(start)`` on ``threads`` threads; ``start()`` waits until all reach it.

    Each racer calls ``start`` once it is ready (connection checked out, transaction
    begun), so the statements under test really meet. The first exception a racer raised
    is raised again here: a racer that crashed is never mistaken for one that lost.
    """
    barrier = threading.Barrier(threads, timeout=RACE_TIMEOUT_SECONDS)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def start() -> None:
        barrier.wait()

    def run() -> None:
        try:
            result = work(start)
        except BaseException as error:  # handed to the main thread below
            barrier.abort()
            with lock:
                errors.append(error)
            return
        with lock:
            results.append(result)

    racers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(RACE_TIMEOUT_SECONDS)
    if any(racer.is_alive() for racer in racers):
        raise TimeoutError(f"a racer was still running after {RACE_TIMEOUT_SECONDS} s")
    if errors:
        raise errors[0]
    return results


def race_in_transactions(engine: Engine, threads: int, work: Callable[[UnitOfWork], T]) -> list[T]:
    """Run ``work(uow)`` in its own committed SQL transaction on each of ``threads`` threads.

    Every racer first holds a live connection inside its transaction, then all run
    ``work`` together, each commits, and the results come back in no particular order.
    A racer that loses to a commit on another Galera node (a write conflict) runs again, as
    use cases do (application.transactions); only its first run waits for the others.
    """
    factory = SqlUnitOfWorkFactory(engine)

    def one(start: Callable[[], None]) -> T:
        waiting = [start]
        for transaction in retrying(factory):
            with transaction as uow:
                uow.users.get(0)  # connect now, not during the race
                while waiting:
                    waiting.pop()()
                result = work(uow)
                uow.commit()
        return result

    return race(threads, one)
