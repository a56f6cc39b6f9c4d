"""A local SMTP server for ``make run`` and the tests: every mail kept as a file.

aiosmtpd (from PyPI) listens on 127.0.0.1; each message it receives is written, as the
client sent it, to ``<folder>/<time>-<n>.eml`` and announced on stdout. Nothing is
relayed anywhere. ``python -m fakestripe.devmail --folder var/mail --port 8025`` runs it alone.
"""

from __future__ import annotations

import argparse
import itertools
import ssl
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class MailFolder:
    """The aiosmtpd handler: writes each message to a file in ``folder``."""

    folder: Path
    announce: Callable[[str], None] = print
    _numbers: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message; always accept it."""
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            path = self.folder / f"{stamp}-{next(self._numbers):04d}.eml"
            path.write_bytes(envelope.original_content or envelope.content)
        self.announce(f"mail to {', '.join(envelope.rcpt_tos)} kept in {path}")
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        """Every kept message, oldest first, parsed."""
        return [
            message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for path in sorted(self.folder.glob("*.eml"))
        ]


class DevMailServer:
    """aiosmtpd on ``host:port`` in a background thread, keeping mails in ``folder``.

    With ``tls_context`` it offers STARTTLS and requires it; with ``logins`` it accepts only
    those usernames and passwords (after STARTTLS), as a real submission server does.
    """

    def __init__(
        self,
        folder: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8025,
        tls_context: ssl.SSLContext | None = None,
        logins: dict[str, str] | None = None,
        announce: Callable[[str], None] = print,
    ) -> None:
        self.mailbox = MailFolder(Path(folder), announce)
        self.host = host
        self.port = port
        options: dict[str, Any] = {}
        if tls_context is not None:
            options.update(tls_context=tls_context, require_starttls=True)
        if logins is not None:
            options.update(authenticator=_authenticator(logins), auth_required=True)
        self._controller = Controller(
            self.mailbox, hostname=host, port=port, ready_timeout=10, **options
        )

    def start(self) -> DevMailServer:
        """Listen until ``stop``."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The kept messages once there are at least ``count`` (AssertionError after timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.mailbox.messages() if self.mailbox.folder.exists() else []
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"{len(found)} mails kept, expected {count}"
                return found
            time.sleep(0.05)


def _authenticator(logins: dict[str, str]) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        return AuthResult(success=logins.get(user) == password and password != "")

    return check


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", default="var/mail")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)
    server = DevMailServer(Path(args.folder), host=args.host, port=args.port).start()
    print(f"local SMTP server on {args.host}:{args.port}: mails are kept in {args.folder}/")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
