"""Fault points for tests: die like a killed process at a chosen moment.

Used only when a test ini turns one on (``framesell.testing.crash_after_charge``, refused
in production); ``tests/system/test_payment_faults.py`` proves that a process killed here,
after the money moved and before the order was settled, loses nothing.
"""

from __future__ import annotations

import logging
import os
import signal

from framesell.application.ports import PaymentResult
from framesell.domain.models import Order

log = logging.getLogger(__name__)


def kill_after_charge(order: Order, result: PaymentResult) -> None:
    """Kill this process with SIGKILL right after a charge, before the order is settled."""
    log.critical("fault point: killing the process after charging order %s", order.id)
    os.kill(os.getpid(), signal.SIGKILL)
