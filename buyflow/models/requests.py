"""What buyers ask of sellers: refunds, each request with its lifecycle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord, UTCDateTime, partial_index


class RefundRequestStatus(StrEnum):
    OPEN = "open"  # the seller has not answered; at most one per order
    REFUNDED = "refunded"  # a refund of the order succeeded while it was open
    DECLINED = "declined"  # by the seller, with a reason
    WITHDRAWN = "withdrawn"  # by the buyer


class RefundRequest(PublicRecord, db.Model):
    """A buyer's request for a refund of an order, with their reason; the seller decides.
    Only ``buyflow.refund_requests`` changes it, under the order's lock."""

    __tablename__ = "refund_requests"
    # At most one open request per order: the lifecycle checks it under the order's lock,
    # the database makes sure.
    __table_args__ = (
        partial_index("uq_refund_requests_one_open", "order_id", unique=True,
                      where="status = 'open'"),
    )

    public_id_prefix = "rr"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"))  # who asked
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=RefundRequestStatus.OPEN)
    # payments.states.RefundDestination: back to how the buyer paid, or as credit with
    # the shop. Recorded and shown; the money core honours it when it refunds.
    refund_to: Mapped[str] = mapped_column(String(20), default="source")
    decline_reason: Mapped[str | None] = mapped_column(Text)  # the seller's, to the buyer
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when no longer open
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))  # what closed it
    # The decline was mailed to the buyer (once, by the task queue, after it commits).
    decline_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A worker is mailing it; a claim older than RECEIPT_CLAIM_SECONDS was lost in a crash.
    decline_mail_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order = relationship("Order", back_populates="refund_requests")
    buyer = relationship("Buyer")
    refund = relationship("Refund")
