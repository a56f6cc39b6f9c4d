"""The argon2 hasher hashes at most one password per core at a time."""

from __future__ import annotations

import threading
import time

from framesell.adapters.argon2 import Argon2PasswordHasher, available_cores


class _Watched:
    """Stands in for argon2-cffi's hasher, counting how many calls run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def _turn(self) -> None:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self._lock:
            self.running -= 1

    def verify(self, password_hash: str, password: str) -> bool:
        self._turn()
        return password_hash == f"hash:{password}"

    def hash(self, password: str) -> str:
        self._turn()
        return f"hash:{password}"


def test_no_more_hashes_run_at_once_than_allowed_and_each_gets_its_answer() -> None:
    hasher = Argon2PasswordHasher(memory_cost_kib=64, time_cost=1, at_once=2)
    watched = _Watched()
    hasher._hasher = watched  # type: ignore[assignment]
    answers: dict[int, tuple[bool, str]] = {}

    def log_in(number: int) -> None:
        answers[number] = (
            hasher.verify("hash:right", "right" if number % 2 else "wrong"),
            hasher.hash(f"p{number}"),
        )

    threads = [threading.Thread(target=log_in, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert watched.most == 2
    assert answers == {n: (n % 2 == 1, f"hash:p{n}") for n in range(8)}


def test_by_default_one_hash_per_core_at_a_time() -> None:
    hasher = Argon2PasswordHasher(memory_cost_kib=64, time_cost=1)
    watched = _Watched()
    hasher._hasher = watched  # type: ignore[assignment]
    threads = [
        threading.Thread(target=hasher.verify, args=("hash:x", "x"))
        for _ in range(available_cores() + 3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert watched.most == available_cores()


def test_real_hashes_still_verify() -> None:
    hasher = Argon2PasswordHasher(memory_cost_kib=64, time_cost=1)
    stored = hasher.hash("correct horse")
    assert hasher.verify(stored, "correct horse")
    assert not hasher.verify(stored, "wrong horse")
