"""The audit log of what buyers change: one entry per change, added to the change's own
transaction (the caller commits both or neither)."""

from __future__ import annotations

from ..extensions import db
from ..models import AuditEntry, Buyer


def record_change(buyer: Buyer, action: str, subject: str, **detail) -> AuditEntry:
    """Add an entry saying ``buyer`` did ``action`` (``card.added``, ``email.verified``…)
    to ``subject`` (a public id) to the current transaction."""
    entry = AuditEntry(buyer_id=buyer.id, action=action, subject=subject, detail=detail)
    db.session.add(entry)
    return entry
