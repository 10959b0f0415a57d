"""What buyers ask of sellers, and the audit log of what buyers change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord, UTCDateTime, utcnow


class RefundRequest(PublicRecord, db.Model):
    """A buyer's request for a refund, with their reason; the seller decides."""

    __tablename__ = "refund_requests"

    public_id_prefix = "rr"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")

    order = relationship("Order", back_populates="refund_requests")


class AuditEntry(db.Model):
    """One change a buyer made (cards, emails, refund requests), written in the same
    transaction as the change. Never updated."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(60))  # the public id of what changed
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
