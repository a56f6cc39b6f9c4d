"""The Mailer port: SMTP (smtplib against a real aiosmtpd with STARTTLS and login) and memory."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from fakestripe.devmail import DevMailServer
from framesell.adapters.memory import MemoryMailer
from framesell.adapters.smtp import SmtpMailer
from framesell.domain.errors import MailUnavailable
from framesell.domain.mail import Mail
from tests.fixtures.network import free_port

SENDER = "FrameSell <shop@framesell.example>"
LOGINS = {"framesell": "smtp password"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with openssl."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


@dataclass
class Delivery:
    """A mailer and a way to read what it delivered, or to make it fail."""

    mailer: Any
    received: Any
    break_it: Any


@pytest.fixture(params=["smtp", "memory"])
def delivery(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path], tmp_path: Path
) -> Iterator[Delivery]:
    """One Mailer per adapter; SMTP requires STARTTLS and a login, as a real server does."""
    if request.param == "memory":
        memory = MemoryMailer()

        def fail() -> None:
            memory.fail_next = 1

        yield Delivery(memory, lambda: [(m.to, m.subject, m.text, m.html) for m in memory.sent],
                       fail)
        return
    key, cert = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    server = DevMailServer(
        tmp_path / "mail", port=free_port(), tls_context=server_tls, logins=LOGINS,
        announce=lambda line: None,
    ).start()
    client_tls = ssl.create_default_context(cafile=str(cert))
    mailer = SmtpMailer(
        "127.0.0.1", server.port, sender=SENDER, username="framesell",
        password=LOGINS["framesell"], starttls=True, tls_context=client_tls, timeout_seconds=5,
    )

    def received() -> list[tuple[str, str, str, str]]:
        return [_parts(m) for m in server.mailbox.messages()] if server.mailbox.folder.exists() \
            else []

    def fail() -> None:
        mailer.port = free_port()  # nobody listens there

    try:
        yield Delivery(mailer, received, fail)
    finally:
        server.stop()


def _parts(message: EmailMessage) -> tuple[str, str, str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert message["From"] == SENDER
    return (
        str(message["To"]),
        str(message["Subject"]),
        text.get_content().replace("\r\n", "\n"),
        html.get_content().replace("\r\n", "\n"),
    )


MAIL = Mail(
    to="ada@example.com",
    subject="Your FrameSell order #7 is paid — “Brücke”",
    text="Hello Ada,\n\nthank you for your order.\n",
    html="<!doctype html><p>Hello Ada, thank you for your order.</p>\n",
)


def test_a_mail_arrives_with_its_subject_text_and_html_parts(delivery: Delivery) -> None:
    delivery.mailer.send(MAIL)
    assert delivery.received() == [(MAIL.to, MAIL.subject, MAIL.text, MAIL.html)]


def test_a_server_that_cannot_take_the_mail_is_mail_unavailable(delivery: Delivery) -> None:
    delivery.break_it()
    with pytest.raises(MailUnavailable):
        delivery.mailer.send(MAIL)
    assert delivery.received() == []


def test_smtp_refuses_a_wrong_login_and_a_server_without_starttls(
    certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    key, cert = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    secured = DevMailServer(
        tmp_path / "a", port=free_port(), tls_context=server_tls, logins=LOGINS,
        announce=lambda line: None,
    ).start()
    plain = DevMailServer(tmp_path / "b", port=free_port(), announce=lambda line: None).start()
    client_tls = ssl.create_default_context(cafile=str(cert))
    try:
        wrong = SmtpMailer("127.0.0.1", secured.port, sender=SENDER, username="framesell",
                           password="wrong", tls_context=client_tls, timeout_seconds=5)
        with pytest.raises(MailUnavailable):
            wrong.send(MAIL)
        # A server that offers no STARTTLS is refused before any password goes out.
        downgraded = SmtpMailer("127.0.0.1", plain.port, sender=SENDER, username="framesell",
                                password=LOGINS["framesell"], timeout_seconds=5)
        with pytest.raises(MailUnavailable):
            downgraded.send(MAIL)
        assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    finally:
        secured.stop()
        plain.stop()
