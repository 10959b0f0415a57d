"""The audit log of changes to buyers' data (``buyflow.audit`` for everyone's)."""

from __future__ import annotations

from ..audit import record_action
from ..models import AuditEntry, Buyer
from ..models.audit import Actor


def record_change(buyer: Buyer, action: str, subject: str, *, actor: Actor | None = None,
                  **detail) -> AuditEntry:
    """Add an entry saying ``actor`` (by default ``buyer`` themself) did ``action``
    (``card.added``, ``email.verified``, ``refund_request.declined``…) to ``subject`` (a
    public id) of ``buyer``'s data, to the current transaction."""
    return record_action(action, subject, actor=actor or Actor.buyer(buyer), buyer=buyer,
                         **detail)
