"""The Mailer port over SMTP with the standard library's smtplib (STARTTLS, login)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from framesell.domain.errors import MailUnavailable
from framesell.domain.mail import Mail


def email_message(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message of a mail: multipart/alternative, plain text first, then HTML."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    domain = sender.rpartition("@")[2].strip("> ") or "framesell.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class SmtpMailer:
    """Sends each mail over a new SMTP connection, upgraded with STARTTLS when asked.

    ``starttls`` refuses a server that does not offer it (no silent plain text), and the
    login happens only after the upgrade. Every failure to hand the mail over is
    MailUnavailable: the outbox tries again later.
    """

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout_seconds: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self._username = username
        self._password = password
        self.starttls = starttls
        self._timeout = timeout_seconds
        # The system's trusted CAs and hostname checks unless told otherwise (tests).
        self._tls_context = tls_context

    def send(self, mail: Mail) -> None:
        """Deliver one mail; MailUnavailable if the server cannot take it now."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self._timeout) as server:
                server.ehlo()
                if self.starttls:
                    server.starttls(context=self._tls_context or ssl.create_default_context())
                    server.ehlo()
                if self._username:
                    server.login(self._username, self._password)
                server.send_message(email_message(mail, self.sender))
        except (smtplib.SMTPException, OSError) as error:
            raise MailUnavailable(f"{type(error).__name__}: {error}") from None
