"""The audit log: every action of a person (and of the system or an API key) on what
Buyflow keeps, one entry per change, added to the change's own transaction (the caller
commits both or neither)."""

from __future__ import annotations

from .extensions import db
from .models import AuditEntry
from .models.audit import Actor


def record_action(action: str, target: str, *, actor: Actor, seller=None, buyer=None,
                  before: dict | None = None, after: dict | None = None,
                  reason: str | None = None, **detail) -> AuditEntry:
    """Add an entry saying ``actor`` did ``action`` (``order.refunded``,
    ``member.invited``, ``seller.suspended``…) to ``target`` (a public id, an email, a
    pattern), at ``seller`` and/or to ``buyer``'s data, with what it was ``before`` and
    is ``after`` and the ``reason`` given, to the current transaction."""
    entry = AuditEntry(buyer_id=buyer.id if buyer is not None else None,
                       seller_id=seller.id if seller is not None else None,
                       actor_type=actor.type, actor_id=actor.id, action=action,
                       subject=target[:60], before=before, after=after, reason=reason,
                       detail=detail)
    db.session.add(entry)
    return entry


def recorded(action: str, target: str) -> bool:
    """Whether an entry says ``action`` was done to ``target`` (committed, or added by
    the current transaction): a movement replayed under its key finds the entry written
    with it."""
    return db.session.scalar(db.select(AuditEntry.id).filter_by(
        subject=target[:60], action=action).limit(1)) is not None
