"""Mails the shop sends, and the outbox that keeps them until they are delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Mail:
    """One message to one address, as plain text and as HTML (the same content)."""

    to: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class OutboxMessage:
    """A mail waiting in the outbox; ``key`` names what it is about, once per shop.

    Written in the transaction that makes it true (an order becoming PAID), so it exists
    exactly when that change was committed, and only once however many processes raced.
    """

    id: int | None
    key: str
    mail: Mail
    created_at: datetime
    tries: int = 0
    next_try_at: datetime | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class PasswordReset:
    """A one-time permission to choose a new password; only the token's hash is stored."""

    id: int | None
    user_id: int
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def usable_at(self, moment: datetime) -> bool:
        """Whether the token may still be used at ``moment`` (not used, not expired)."""
        return self.used_at is None and moment < self.expires_at
