"""Refunds of a paid order, never more in all than was paid, and their history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord, UTCDateTime, utcnow


class Refund(PublicRecord, db.Model):
    __tablename__ = "refunds"

    public_id_prefix = "re"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text, default="")
    # payments.states.RefundKind: what the order cost, or a charge it did not need.
    kind: Mapped[str] = mapped_column(String(20), default="order")
    # payments.states.RefundStatus; only payments.service writes it.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    provider_refund_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    failure_code: Mapped[str | None] = mapped_column(String(60))
    # Set before the provider call (the recovery point), cleared when it returns; see
    # Payment.provider_call_until.
    provider_call_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    order = relationship("Order", back_populates="refunds")
    payment = relationship("Payment")
    events: Mapped[list[RefundEvent]] = relationship(
        back_populates="refund", order_by="RefundEvent.id"
    )

    @property
    def idempotency_key(self) -> str:
        """Derived from our own row, so a retried provider call cannot refund twice."""
        return f"buyflow-refund-{self.public_id}"


class RefundEvent(db.Model):
    """One row per refund status change, never updated."""

    __tablename__ = "refund_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    # A provider event is applied at most once: a replayed webhook hits this constraint.
    provider_event_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    refund: Mapped[Refund] = relationship(back_populates="events")
