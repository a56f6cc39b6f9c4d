"""A PaymentGateway factory for the benchmark: the real StripeGateway, its calls timed.

Named in the benchmark's ini as ``framesell.payment = bench.timing:timed_stripe_gateway``.
Every call's wall time is added to process-wide totals, which a daemon thread writes as
JSON to the file named by ``BENCH_GATEWAY_TIMING_FILE`` every quarter second; the
benchmark reads the totals before and after a run and subtracts them from the server's
time per order, which leaves FrameSell's own time.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from bench.memory import start_if_asked
from framesell.adapters.stripe import StripeGateway
from framesell.settings import Settings

TIMING_FILE_VARIABLE = "BENCH_GATEWAY_TIMING_FILE"


class _Totals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls = 0
        self.seconds = 0.0

    def add(self, seconds: float) -> None:
        with self.lock:
            self.calls += 1
            self.seconds += seconds

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"calls": self.calls, "seconds": self.seconds, "pid": os.getpid()}


class TimedGateway:
    """Forwards every PaymentGateway call to ``inner`` and adds its wall time to ``totals``."""

    def __init__(self, inner: StripeGateway, totals: _Totals) -> None:
        self._inner = inner
        self._totals = totals

    def _timed(self, name: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return getattr(self._inner, name)(*args, **kwargs)
        finally:
            self._totals.add(time.perf_counter() - started)

    def charge(self, *args: Any, **kwargs: Any) -> Any:
        """StripeGateway.charge, timed."""
        return self._timed("charge", *args, **kwargs)

    def retrieve(self, *args: Any, **kwargs: Any) -> Any:
        """StripeGateway.retrieve, timed."""
        return self._timed("retrieve", *args, **kwargs)

    def refund(self, *args: Any, **kwargs: Any) -> Any:
        """StripeGateway.refund, timed."""
        return self._timed("refund", *args, **kwargs)

    def cancel(self, *args: Any, **kwargs: Any) -> Any:
        """StripeGateway.cancel, timed."""
        return self._timed("cancel", *args, **kwargs)


def _dump_forever(totals: _Totals, path: Path) -> None:
    while True:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(totals.snapshot()))
        temporary.replace(path)
        time.sleep(0.25)


def timed_stripe_gateway(settings: Settings) -> TimedGateway:
    """The production StripeGateway from ``settings``, wrapped to time its calls.

    Also where a backend of the soak starts tracing its allocations, when asked (bench.memory).
    """
    start_if_asked()
    inner = StripeGateway(
        settings.stripe_secret_key,
        api_base=settings.stripe_api_base,
        timeout_seconds=settings.stripe_timeout_seconds,
        max_retries=settings.stripe_max_retries,
    )
    totals = _Totals()
    target = os.environ.get(TIMING_FILE_VARIABLE)
    if target:
        threading.Thread(
            target=_dump_forever, args=(totals, Path(target)), name="bench-timing", daemon=True
        ).start()
    return TimedGateway(inner, totals)
