"""nginx in front of several FrameSell processes, from nginx.conf.template."""

from __future__ import annotations

import shutil
import string
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"


def render_config(prefix: Path, port: int, backend_ports: list[int]) -> str:
    """The nginx.conf for these backends (max_fails=1, fail_timeout=2s each)."""
    servers = "\n".join(
        f"        server 127.0.0.1:{backend} max_fails=1 fail_timeout=2s;"
        for backend in backend_ports
    )
    template = string.Template(TEMPLATE.read_text())
    return template.safe_substitute(prefix=str(prefix), port=str(port), servers=servers)


@dataclass
class Nginx:
    """A running nginx (master in the foreground, so it is our child process)."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop nginx (QUIT, then KILL)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(prefix: Path, port: int, backend_ports: list[int]) -> Nginx:
    """Start nginx on 127.0.0.1:``port`` in front of the backends; wait until it answers."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    prefix.chmod(0o755)
    config = prefix / "nginx.conf"
    config.write_text(render_config(prefix, port, backend_ports))
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(prefix / "stderr.log").open("wb"),
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {(prefix / 'stderr.log').read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/product/", timeout=2):
                return Nginx(process, port)
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("nginx did not answer")
