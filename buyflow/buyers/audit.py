"""The audit log of changes to buyers' data: one entry per change, added to the change's
own transaction (the caller commits both or neither)."""

from __future__ import annotations

from ..extensions import db
from ..models import AuditEntry, Buyer
from ..models.audit import Actor


def record_change(buyer: Buyer, action: str, subject: str, *, actor: Actor | None = None,
                  **detail) -> AuditEntry:
    """Add an entry saying ``actor`` (by default ``buyer`` themself) did ``action``
    (``card.added``, ``email.verified``, ``refund_request.declined``…) to ``subject`` (a
    public id) of ``buyer``'s data, to the current transaction."""
    actor = actor or Actor.buyer(buyer)
    entry = AuditEntry(buyer_id=buyer.id, actor_type=actor.type, actor_id=actor.id,
                       action=action, subject=subject, detail=detail)
    db.session.add(entry)
    return entry
