"""The request log's cost per line, in process: ``AccessLog.write`` from 1 and 8 threads.

Production's set-up (a ``StreamHandler`` with ``JsonFormatter`` and ``RedactSecrets``), writing
to a scratch file. For each thread count it reports, per line, the wall time from the first
``write`` until every line is in the file (``flush_access_logs`` included), the CPU time of
the process over the same span, and the time the calling threads spent inside ``write``
(what a request waits for). The best of ``--repeats`` runs; figures drift on a shared
machine, compare runs made minutes apart.

    python -m bench.access_log                 # 1 and 8 threads, 20,000 lines each run
    python -m bench.access_log --threads 1,2,8 --lines 50000
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from typing import IO

from framesell.entrypoints.logs import (
    AccessLog,
    JsonFormatter,
    RedactSecrets,
    flush_access_logs,
    request_id_bound,
)


def _logger(stream: IO[str]) -> tuple[logging.Logger, logging.StreamHandler[IO[str]]]:
    """A logger of its own writing JSON lines to ``stream``, as production.ini's console does."""
    logger = logging.getLogger(f"bench.access_log.{id(stream)}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    logger.addHandler(handler)
    return logger, handler


def one_run(threads: int, lines: int) -> tuple[float, float, float]:
    """Wall, CPU and in-``write`` microseconds per line for ``lines`` lines over ``threads``."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as scratch:
        logger, handler = _logger(scratch)
        access = AccessLog(logger)
        per_thread = lines // threads
        inside = [0.0] * threads
        ready = threading.Barrier(threads + 1)

        def work(number: int) -> None:
            ready.wait()
            spent = 0.0
            for line in range(per_thread):
                with request_id_bound(f"req-{number}-{line}"):
                    started = time.perf_counter()
                    access.write("GET", "/api/product/", 200, 0.42, None)
                    spent += time.perf_counter() - started
            inside[number] = spent

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        ready.wait()
        wall, cpu = time.perf_counter(), time.process_time()
        for worker in workers:
            worker.join()
        flush_access_logs()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        logger.removeHandler(handler)
        scratch.seek(0)
        written = sum(1 for _ in scratch)
        assert written == per_thread * threads, f"{written} lines written, not {lines}"
        total = per_thread * threads
        return wall / total * 1e6, cpu / total * 1e6, sum(inside) / total * 1e6


def main() -> None:
    """Print the per-line figures for each thread count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,8", help="comma-separated thread counts")
    parser.add_argument("--lines", type=int, default=20_000, help="lines per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per thread count")
    args = parser.parse_args()
    print(f"{'threads':>7} {'wall µs/line':>13} {'CPU µs/line':>12} {'in write µs':>12}")
    for threads in (int(n) for n in args.threads.split(",")):
        runs = [one_run(threads, args.lines) for _ in range(args.repeats)]
        wall, cpu, inside = (min(column) for column in zip(*runs, strict=True))
        print(f"{threads:>7} {wall:>13.1f} {cpu:>12.1f} {inside:>12.1f}")


if __name__ == "__main__":
    main()
