"""The audit log: who did what — a buyer to their data, a member to their seller's, an
operator to the service's, the system, an API key —, one entry per change, written in
the change's own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import UTCDateTime, utcnow


class ActorType(StrEnum):
    BUYER = "buyer"
    MEMBER = "member"  # a member of a seller's team, on the console
    OPERATOR = "operator"  # who runs this Buyflow service
    SYSTEM = "system"  # Buyflow itself: a task, reconciliation, a provider's event
    API_KEY = "api_key"  # a seller's server, through the API


@dataclass(frozen=True)
class Actor:
    """Who made a change: a type and, for every type but the system, which one (a public
    id, or the row id of what has none)."""

    type: ActorType
    id: str | None = None

    def __post_init__(self):
        if (self.type == ActorType.SYSTEM) != (self.id is None):
            raise ValueError("the system has no id; every other actor has one")

    def __str__(self) -> str:
        """``type:id`` (``system`` alone), as records without an actor column keep it."""
        return str(self.type) if self.id is None else f"{self.type}:{self.id}"

    @classmethod
    def buyer(cls, buyer) -> Actor:
        return cls(ActorType.BUYER, str(buyer.id))

    @classmethod
    def member(cls, person) -> Actor:
        """A person acting on a seller's console (the seller is the entry's)."""
        return cls(ActorType.MEMBER, str(person.id))

    @classmethod
    def operator(cls, person) -> Actor:
        return cls(ActorType.OPERATOR, str(person.id))

    @classmethod
    def api_key(cls, key) -> Actor:
        """A seller's API key (``SellerApiKey``: it has no public id, so its row id)."""
        return cls(ActorType.API_KEY, str(key.id))


SYSTEM = Actor(ActorType.SYSTEM)


class AuditEntry(db.Model):
    """One change. ``buyer_id`` is the buyer whose data it is (if a buyer's), ``seller_id``
    the seller it happened at (if a seller's), the actor who made it; ``before`` and
    ``after`` what changed, ``reason`` why, when the actor said. Never updated, except
    to erase personal details when the account is deleted."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_actor", "actor_type", "actor_id"),
                      Index("ix_audit_entries_action", "action"),
                      # An object's history (the console's order timeline).
                      Index("ix_audit_entries_subject", "subject"))

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"), index=True)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id"), index=True)
    actor_type: Mapped[str] = mapped_column(String(20))  # ActorType
    actor_id: Mapped[str | None] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(60))  # the public id of what changed
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    @property
    def actor(self) -> Actor:
        return Actor(ActorType(self.actor_type), self.actor_id)
