"""Transactions that run again when another one wrote the same rows first.

On a MariaDB Galera cluster two nodes accept writes at once; the second of two conflicting
transactions learns it only at its commit (a certification failure, reported as a
deadlock), after the other node's commit. On one server the same race is an InnoDB
deadlock. Either way nothing of the loser was written and running its code again, on fresh
reads, is what the client would have got had it come a moment later. Only the code that
made the transaction can do that, so a use case writes::

    for transaction in retrying(self._uow):
        with transaction as uow:
            ...reads and writes...
            uow.commit()

and each attempt is a fresh unit of work. A conflict (``WriteConflict``) ends the attempt
quietly and the loop starts the next one after a short random pause, at most ``TRIES`` in
all; the last attempt's conflict is raised (a 503, as any storage failure). Any other error
ends the loop at once. Nothing after the ``with`` may sit inside the loop, and the block must
not call the payment gateway (no transaction is ever open across one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from random import SystemRandom
from types import TracebackType

from framesell.application.errors import WriteConflict
from framesell.application.ports import UnitOfWork, UnitOfWorkFactory

TRIES = 4  # the first run and three reruns
PAUSE_SECONDS = 0.005  # the random pause before rerun n is up to PAUSE_SECONDS * 2**n
pause_jitter = SystemRandom()  # the system's source, so two processes never pause in step


class Attempt:
    """One run of a transaction; its ``with`` block swallows a conflict unless it is the last."""

    def __init__(self, uow: UnitOfWork, *, last: bool) -> None:
        self._uow = uow
        self._last = last
        self.conflicted = False

    def __enter__(self) -> UnitOfWork:
        """Begin the transaction."""
        return self._uow.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        """End the transaction; True (swallow) for a conflict that another attempt may fix."""
        try:
            self._uow.__exit__(exc_type, exc, tb)
        except WriteConflict:
            if self._last:
                raise
            self.conflicted = True
            return True
        if isinstance(exc, WriteConflict) and not self._last:
            self.conflicted = True
            return True
        return False


def retrying(
    new_uow: UnitOfWorkFactory,
    tries: int = TRIES,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Attempt]:
    """Yield attempts until one ends without a write conflict, at most ``tries`` of them."""
    for number in range(1, tries + 1):
        attempt = Attempt(new_uow(), last=number == tries)
        yield attempt
        if not attempt.conflicted:
            return
        sleep(pause_jitter.uniform(0, PAUSE_SECONDS * 2**number))
