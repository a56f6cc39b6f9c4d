"""Failures of the infrastructure the use cases run on, not of the shop's rules.

They are ``DomainError``s so that the HTTP layer answers them like any other named failure
(503, see ``entrypoints/http/errors.py``), but the domain itself never raises them: the
storage adapters and the use cases that wait on the payment gateway do.
"""

from __future__ import annotations

from framesell.domain.errors import DomainError


class StorageUnavailable(DomainError):
    """The database cannot be reached; nothing was written."""

    message = "service temporarily unavailable"


class WriteConflict(StorageUnavailable):
    """Another transaction changed the same rows first; nothing was written, a rerun may pass.

    A deadlock on one server, or a certification failure on a Galera cluster (a write that
    conflicts with one committed on another node, reported at commit as a deadlock).
    """


class PaymentEventTooEarly(DomainError):
    """A payment event that cannot be applied yet (the gateway cannot be asked about its
    payment now); it is not recorded, and the sender should deliver it again."""

    message = "payment event not applied yet: the payment service is unavailable; retry later"
