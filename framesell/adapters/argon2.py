"""argon2id password hashing (argon2-cffi) as the PasswordHasher."""

from __future__ import annotations

import os
import threading

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's minimum recommendation for argon2id: m=19 MiB, t=2, p=1.
OWASP_MEMORY_COST_KIB = 19 * 1024
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1


def available_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Argon2PasswordHasher:
    """Salted argon2id hashes; tells when a stored hash used weaker parameters."""

    def __init__(
        self,
        *,
        memory_cost_kib: int = OWASP_MEMORY_COST_KIB,
        time_cost: int = OWASP_TIME_COST,
        parallelism: int = OWASP_PARALLELISM,
        at_once: int | None = None,
    ) -> None:
        # At most one hash per core at a time (``at_once``, the cores by default). argon2
        # lets go of the interpreter lock, so every server thread could hash at once; on
        # two cores eight 19 MiB hashes at once each cost a third more CPU (they evict each
        # other's memory from the caches at every switch) and logins got fewer, not more.
        # The others wait their turn, which costs nothing.
        self._turns = threading.BoundedSemaphore(at_once or available_cores())
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )

    def hash(self, password: str) -> str:
        """Return an encoded argon2id hash with a fresh salt."""
        with self._turns:
            return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches; False for a mismatch or an unreadable hash."""
        try:
            with self._turns:
                return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than this hasher's."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True
