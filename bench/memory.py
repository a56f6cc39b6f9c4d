"""Where a backend's memory goes during the soak: tracemalloc snapshots and their comparison.

A backend started with ``BENCH_TRACEMALLOC_DIR`` set (``python -m bench.soak --tracemalloc``
sets it for backend 1, so that backend 2's resident size is measured untraced) starts
``tracemalloc`` with ``FRAMES`` frames per allocation when the benchmark's gateway is built
(bench.timing), and writes a snapshot every ``EVERY_SECONDS`` to a folder of its own (its
process id) in that folder: backend 1 is killed and started again midway. ``growth``
compares two snapshots by allocation site: what grew, by how much, and from where.
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

DIRECTORY_VARIABLE = "BENCH_TRACEMALLOC_DIR"
FRAMES = 8
EVERY_SECONDS = 60.0


def start_if_asked() -> None:
    """Trace allocations and write a snapshot a minute, if the environment asks for it."""
    target = os.environ.get(DIRECTORY_VARIABLE)
    if not target or tracemalloc.is_tracing():
        return
    folder = Path(target) / str(os.getpid())
    folder.mkdir(parents=True, exist_ok=True)
    tracemalloc.start(FRAMES)
    started = time.monotonic()

    def snapshots() -> None:
        while True:
            time.sleep(EVERY_SECONDS)
            minute = round((time.monotonic() - started) / 60)
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            temporary = folder / f"minute-{minute:03d}.tmp"
            snapshot.dump(str(temporary))
            temporary.replace(folder / f"minute-{minute:03d}.snapshot")

    threading.Thread(target=snapshots, name="bench-tracemalloc", daemon=True).start()


def growth(earlier: Path, later: Path, top: int = 15) -> dict[str, Any]:
    """The traced total of each snapshot and the allocation sites that grew most between."""
    old = tracemalloc.Snapshot.load(str(earlier))
    new = tracemalloc.Snapshot.load(str(later))
    differences = new.compare_to(old, "traceback")
    grown = [d for d in differences if d.size_diff > 0]
    return {
        "from": earlier.stem,
        "to": later.stem,
        "traced_mib": [_traced_mib(old), _traced_mib(new)],
        "grown_kib": round(sum(d.size_diff for d in grown) / 1024, 1),
        "shrunk_kib": round(sum(d.size_diff for d in differences if d.size_diff < 0) / 1024, 1),
        "sites": [
            {
                "kib": round(d.size_diff / 1024, 1),
                "blocks": d.count_diff,
                "where": [f"{frame.filename.split('site-packages/')[-1]}:{frame.lineno}"
                          for frame in reversed(d.traceback)],
            }
            for d in grown[:top]
        ],
    }  # fmt: skip


def _traced_mib(snapshot: tracemalloc.Snapshot) -> float:
    return round(sum(stat.size for stat in snapshot.statistics("filename")) / 2**20, 2)
