"""Refunds of a paid order, spread over the payments that paid it, and their history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord, UTCDateTime, utcnow


class Refund(PublicRecord, db.Model):
    """What the seller (or Buyflow, for an overpayment) gives back of an order: an amount,
    spread over the order's payments as parts (payments/refunds.py says how). Its status
    sums up its parts'."""

    __tablename__ = "refunds"

    public_id_prefix = "re"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text, default="")
    # payments.states.RefundKind: what the order cost, or a charge it did not need.
    kind: Mapped[str] = mapped_column(String(20), default="order")
    # payments.states.RefundDestination: back to each payment's source, or as credit.
    destination: Mapped[str] = mapped_column(String(20), default="source")
    # payments.states.RefundStatus of the whole, from its parts; only payments.service
    # writes it.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    order = relationship("Order", back_populates="refunds")
    parts: Mapped[list[RefundPart]] = relationship(
        back_populates="refund", order_by="RefundPart.id"
    )


class RefundPart(PublicRecord, db.Model):
    """The part of a refund one payment gives back: through the payment's source (a
    provider refund, credit given back, an offline refund recorded) or as credit. The
    unit the exactly-once machinery works on."""

    __tablename__ = "refund_parts"

    public_id_prefix = "rp"

    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    destination: Mapped[str] = mapped_column(String(20), default="source")
    # payments.states.RefundStatus; only payments.service writes it.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    provider_refund_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    failure_code: Mapped[str | None] = mapped_column(String(60))
    # Set before the provider call (the recovery point), cleared when it returns; see
    # Payment.provider_call_until.
    provider_call_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Credit given back (to the source, or as the destination): its ledger transaction.
    ledger_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id"))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    refund: Mapped[Refund] = relationship(back_populates="parts")
    payment = relationship("Payment")
    events: Mapped[list[RefundEvent]] = relationship(
        back_populates="part", order_by="RefundEvent.id"
    )

    @property
    def order_id(self) -> int:
        return self.refund.order_id

    @property
    def idempotency_key(self) -> str:
        """Derived from our own row, so a retried provider call cannot refund twice."""
        return f"buyflow-refund-{self.public_id}"


class RefundEvent(db.Model):
    """One row per refund part's status change, never updated."""

    __tablename__ = "refund_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_part_id: Mapped[int] = mapped_column(ForeignKey("refund_parts.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    # A provider event is applied at most once: a replayed webhook hits this constraint.
    provider_event_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    part: Mapped[RefundPart] = relationship(back_populates="events")
