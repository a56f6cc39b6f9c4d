"""The shop's mails: what they say, and the outbox that delivers each exactly once."""

from __future__ import annotations

import html
import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from framesell.application.ports import Clock, Mailer, UnitOfWork, UnitOfWorkFactory
from framesell.application.transactions import retrying
from framesell.domain.errors import MailUnavailable
from framesell.domain.mail import Mail, OutboxMessage
from framesell.domain.models import CHARGED_STATUSES, FormatKind, Order, PaymentStatus, User
from framesell.domain.money import Money

log = logging.getLogger(__name__)

# How long one sender owns a message it took (then another may try), and the backoff.
CLAIM_FOR = timedelta(minutes=2)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


def _money(money: Money) -> str:
    return f"${money.major:.2f}" if money.currency == "usd" else f"{money.major} {money.currency}"


def _mail(to: str, subject: str, lines: list[str]) -> Mail:
    """A mail whose HTML part says what its text part says, every value escaped."""
    text = "\n\n".join(lines) + "\n\n— FrameSell\n"
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>"
        f'<body style="font-family: sans-serif">{body}<p>— FrameSell</p></body></html>'
    )
    return Mail(to=to, subject=subject, text=text, html=page)


@dataclass(frozen=True)
class ShopMail:
    """Writes the shop's mails; no card data, token or secret ever goes into one."""

    owner: str = ""  # where sale notices go; none when empty

    def order_confirmation(self, order: Order, shopper: User) -> Mail:
        """To the shopper, once the order is paid."""
        lines = [
            f"Hello {shopper.first_name},",
            f"thank you for your order #{order.id}: {_what(order)} for {_money(order.amount)}.",
        ]
        if order.shipping is not None:
            lines.append(
                f"The payment went through; we are preparing your prints for"
                f" {order.shipping.name}, {order.shipping.city}."
            )
        if not order.items or any(item.kind is FormatKind.DIGITAL for item in order.items):
            lines.append("Your download is ready on the order's page in the shop.")
        return _mail(shopper.email, f"Your FrameSell order #{order.id} is paid", lines)

    def sale_notice(self, order: Order, shopper: User) -> Mail:
        """To the owner, once an order is paid."""
        return _mail(self.owner, f"Sale: order #{order.id}, {_money(order.amount)}", [
            f"Order #{order.id} is paid: {_what(order)} for"
            f" {_money(order.amount)}, bought by {shopper.email}.",
        ])

    def refund_notice(self, order: Order, shopper: User, amount: Money) -> Mail:
        """To the shopper, when money of the order was given back."""
        total = Money(order.refunded_cents, order.amount.currency)
        return _mail(shopper.email, f"A refund for your FrameSell order #{order.id}", [
            f"Hello {shopper.first_name},",
            f"we have refunded {_money(amount)} of your order #{order.id}"
            f" (“{order.product.description}”), {_money(total)} of {_money(order.amount)}"
            " in all so far.",
            "Your bank shows it within a few days.",
        ])

    def password_reset(self, shopper: User, link: str, valid_for: timedelta) -> Mail:
        """To the account's address: the one-time link to choose a new password."""
        minutes = int(valid_for.total_seconds() // 60)
        return _mail(shopper.email, "Choose a new FrameSell password", [
            f"Hello {shopper.first_name},",
            "someone (we hope you) asked to choose a new password for this account."
            f" Open this link within {minutes} minutes to do so; it works once:",
            link,
            "If it was not you, ignore this mail: your password stays as it is.",
        ])


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class MailOutbox:
    """Queues mails in the transaction of what they tell, and delivers them after commit.

    Queuing is exactly once: a mail's key is unique, and the order mails are queued only by
    the compare-and-swap that moved the order (which one process wins). Delivery takes each
    message with a compare-and-swap claim first, so two processes never send the same one;
    a failed send is retried later with a growing backoff (``framesell send-mail``).
    """

    def __init__(self, uow: UnitOfWorkFactory, mailer: Mailer, clock: Clock, mail: ShopMail):
        self._uow = uow
        self._mailer = mailer
        self._clock = clock
        self.mail = mail

    def queue(self, uow: UnitOfWork, key: str, mail: Mail) -> bool:
        """Add one mail to the outbox inside the caller's transaction; False if queued before."""
        if not mail.to:
            return False
        return uow.outbox.add(OutboxMessage(None, key, mail, self._clock.now()))

    def queue_order_change(self, uow: UnitOfWork, before: Order, after: Order) -> bool:
        """Inside the transaction that moved an order: the mails the move calls for."""
        assert after.id is not None
        queued = False
        paid = before.status is PaymentStatus.PENDING and after.status in CHARGED_STATUSES
        refunded = after.refunded_cents - before.refunded_cents
        if not paid and refunded <= 0:
            return False
        shopper = uow.users.get(after.user_id)
        if shopper is None:
            return False
        if paid:
            queued |= self.queue(
                uow, f"order-{after.id}-paid", self.mail.order_confirmation(after, shopper)
            )
            queued |= self.queue(
                uow, f"order-{after.id}-sale", self.mail.sale_notice(after, shopper)
            )
        if refunded > 0 and before.status in CHARGED_STATUSES:
            amount = Money(refunded, after.amount.currency)
            queued |= self.queue(
                uow,
                f"order-{after.id}-refund-{after.refunded_cents}",
                self.mail.refund_notice(after, shopper, amount),
            )
        return queued

    def deliver_in_background(self) -> threading.Thread:
        """Deliver what is due on a thread of its own, so the caller's answer does not wait
        for (or show the timing of) the mail server."""

        def run() -> None:
            try:
                self.deliver()
            except Exception:  # the outbox keeps the mail for the next run
                log.exception("could not deliver the queued mail now")

        thread = threading.Thread(target=run, name="framesell-mail", daemon=True)
        thread.start()
        return thread

    def deliver(self, limit: int = 50) -> DeliveryReport:
        """Send the messages that are due; never raises for the mail server's failures."""
        report = DeliveryReport()
        now = self._clock.now()
        with self._uow() as uow:
            due = uow.outbox.due(now, limit)
        for message in due:
            assert message.id is not None
            for transaction in retrying(self._uow):
                with transaction as uow:
                    claimed = uow.outbox.claim(message.id, until=now + CLAIM_FOR, now=now)
                    uow.commit()
            if not claimed:
                continue  # another process is sending it
            try:
                self._mailer.send(message.mail)
            except MailUnavailable as error:
                wait = min(FIRST_RETRY * 2**message.tries, LONGEST_RETRY)
                log.warning("mail %s not sent (%s): retrying in %s", message.key, error, wait)
                for transaction in retrying(self._uow):
                    with transaction as uow:
                        uow.outbox.retry_later(message.id, at=self._clock.now() + wait)
                        uow.commit()
                report.failed.append(message.key)
                continue
            for transaction in retrying(self._uow):
                with transaction as uow:
                    uow.outbox.mark_sent(message.id, self._clock.now())
                    uow.commit()
            log.info("mail %s sent", message.key)
            report.sent.append(message.key)
        return report


def _what(order: Order) -> str:
    """What an order holds, for a mail: each line's photo, format and quantity."""
    if not order.items:
        return f"“{order.product.description}”"
    return ", ".join(
        f"{item.quantity} x “{item.description}” ({item.label})"
        if item.quantity > 1
        else f"“{item.description}” ({item.label})"
        for item in order.items
    )
