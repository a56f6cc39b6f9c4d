"""Starts a fake Stripe in a separate process and waits until it answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from fakestripe.server import READY_PREFIX

_REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


class FakeStripeDidNotStart(RuntimeError):
    """The fake Stripe process exited or stayed silent instead of answering."""


@dataclass
class FakeStripe:
    """A running fake Stripe process: point ``api_base`` of a Stripe client at ``url``."""

    url: str
    process: subprocess.Popen[str] = field(repr=False)

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the process (SIGTERM, then SIGKILL after ``timeout``); return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> FakeStripe:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_fake_stripe(
    port: int = 0, *, host: str = "127.0.0.1", timeout: float = 20.0, quiet: bool = True
) -> FakeStripe:
    """Run ``python -m fakestripe`` in a new process and return once it answers HTTP.

    ``port=0`` lets the process pick a free port, which it reports on its ready line, so
    parallel test sessions never race for one. Raises FakeStripeDidNotStart on failure.
    """
    command = [sys.executable, "-m", "fakestripe", "--host", host, "--port", str(port)]
    if quiet:
        command.append("--quiet")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPOSITORY_ROOT),
                                                      env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env=env, cwd=_REPOSITORY_ROOT
    )
    try:
        url = _read_ready_line(process, timeout)
        handle = FakeStripe(url=url, process=process)
        _wait_until_answering(handle, timeout)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return handle


def _read_ready_line(process: subprocess.Popen[str], timeout: float) -> str:
    """Wait for the ready line, then keep draining stdout so the child never blocks on it."""
    assert process.stdout is not None
    lines: list[str] = []
    got_line = threading.Event()
    stdout = process.stdout

    def drain() -> None:
        for line in stdout:
            if not got_line.is_set():
                lines.append(line)
                if line.startswith(READY_PREFIX):
                    got_line.set()
        got_line.set()  # end of output: the process is gone

    threading.Thread(target=drain, name="fakestripe-stdout", daemon=True).start()
    if not got_line.wait(timeout):
        raise FakeStripeDidNotStart(f"no ready line within {timeout} seconds")
    ready = [line for line in lines if line.startswith(READY_PREFIX)]
    if not ready:
        raise FakeStripeDidNotStart(
            f"the process exited with status {process.wait()} before it was ready"
        )
    return ready[0][len(READY_PREFIX):].strip()


def _wait_until_answering(handle: FakeStripe, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    probe = handle.url + "/js.stripe.com/v3/"  # localstripe's Stripe.js: needs no key
    while True:
        try:
            with urllib.request.urlopen(probe, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if handle.process.poll() is not None:
            raise FakeStripeDidNotStart(f"the process exited with {handle.process.returncode}")
        if time.monotonic() > deadline:
            raise FakeStripeDidNotStart(f"{handle.url} did not answer within {timeout} seconds")
        time.sleep(0.05)
