"""Payments (one per attempt to pay an order) and their append-only event history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord, UTCDateTime, partial_index, utcnow


_OPEN = "status IN ('created', 'requires_action', 'authorized')"


class Payment(PublicRecord, db.Model):
    __tablename__ = "payments"
    # At most one payment per order and source that may still succeed (payments/charges.py
    # and payments/credit.py keep to it under the order's lock; this makes a slip an
    # error instead of a second charge).
    __table_args__ = (
        partial_index("uq_payments_open_per_order", "order_id", "provider", unique=True,
                      where=_OPEN),
    )

    public_id_prefix = "pay"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # The payment source (the registry in payments/__init__.py): "stripe", "credit" or
    # "offline".
    provider: Mapped[str] = mapped_column(String(20))
    # How it was paid: "card", "credit", or an offline method (payments.offline.METHODS).
    method: Mapped[str] = mapped_column(String(20), default="card")
    status: Mapped[str] = mapped_column(String(30), default="created")
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The card entry this payment is for, one payment per entry: the provider's card-setup
    # reference for a new card, ``saved-<attempt>`` for a saved card (flow/checkout.py).
    provider_setup_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    provider_payment_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    provider_method_ref: Mapped[str | None] = mapped_column(String(100))
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_exp_month: Mapped[int | None] = mapped_column(Integer)
    card_exp_year: Mapped[int | None] = mapped_column(Integer)
    failure_code: Mapped[str | None] = mapped_column(String(60))
    # An offline payment's reference (the bank transfer's, the invoice number...) and who
    # recorded it (an actor: "api_key:<id>", "member:<id>").
    reference: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    # A credit payment's ledger hold (reserved when the order opened), then its capture.
    ledger_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id"))
    # Set before a provider call that may charge (the recovery point), cleared when it
    # returns: until then the call may be in flight, so nobody else drives this payment;
    # a crash leaves it to expire, and recovery takes over.
    provider_call_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )

    order = relationship("Order", back_populates="payments")
    events: Mapped[list[PaymentEvent]] = relationship(
        back_populates="payment", order_by="PaymentEvent.id"
    )

    @property
    def idempotency_key(self) -> str:
        """Derived from our own row, so a retried provider call cannot charge twice."""
        return f"buyflow-payment-{self.public_id}"


class PaymentEvent(db.Model):
    """One row per status change (and per ignored provider event), never updated."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    # A provider event is applied at most once: a replayed webhook hits this constraint.
    provider_event_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="events")
