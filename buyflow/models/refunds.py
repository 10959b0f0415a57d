"""Refunds of a paid order, never more in all than was paid."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord


class Refund(PublicRecord, db.Model):
    __tablename__ = "refunds"

    public_id_prefix = "re"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text, default="")
    # pending (amount reserved, provider not yet answered) -> succeeded | failed
    status: Mapped[str] = mapped_column(String(20), default="pending")
    provider_refund_ref: Mapped[str | None] = mapped_column(String(100), unique=True)

    order = relationship("Order", back_populates="refunds")
    payment = relationship("Payment")

    @property
    def idempotency_key(self) -> str:
        """Derived from our own row, so a retried provider call cannot refund twice."""
        return f"buyflow-refund-{self.public_id}"
