"""Orders and their items. An order's status moves only through payments.service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..money import Money
from ._base import PublicRecord, UTCDateTime, partial_index


# The orders a buyer bought (payments.states.PURCHASED_ORDER_STATUSES), as SQL text: a
# partial index and the queries it serves must say it alike for SQLite to use it.
PURCHASED = "status IN ('paid', 'partially_refunded', 'refunded')"


class Order(PublicRecord, db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_buyer_email_id", "buyer_email", "id"),
        # A buyer's purchases, newest first, a page at a time, by email: the attempts
        # never paid (declined, abandoned, expired) are not in it.
        partial_index("ix_orders_purchases", "buyer_email", "id", where=PURCHASED),
        # The seller API's order list (api/views.py list_orders), newest first by id:
        # all of a seller's, of a status, or created in a time range (with a status or
        # without), each a walk of one index however long the history.
        Index("ix_orders_seller_id_id", "seller_id", "id"),
        Index("ix_orders_seller_status_id", "seller_id", "status", "id"),
        Index("ix_orders_seller_created", "seller_id", "created_at"),
        Index("ix_orders_seller_status_created", "seller_id", "status", "created_at"),
        # The console's revenue per day (sellers/revenue.py): a seller's orders by the
        # time they were paid.
        Index("ix_orders_seller_paid", "seller_id", "paid_at"),
    )

    public_id_prefix = "ord"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"))
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"), index=True)
    buyer_email: Mapped[str] = mapped_column(String(320))
    # One buy-flow session makes at most one order: a double click cannot make two.
    checkout_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    # From the seller's signed request: its own id for the purchase, and its data.
    seller_reference: Mapped[str | None] = mapped_column(String(100))
    passthrough: Mapped[dict | None] = mapped_column(JSON)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Never paid within ORDER_EXPIRY_SECONDS: what it reserved was released (expiry.py).
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The receipt email went out (sent once, by the task queue, after the order is paid).
    receipt_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A worker is sending it; a claim older than RECEIPT_CLAIM_SECONDS was lost in a crash.
    receipt_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    seller = relationship("Seller")
    buyer = relationship("Buyer")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.id", cascade="all, delete-orphan"
    )
    payments = relationship("Payment", back_populates="order", order_by="Payment.id")
    refunds = relationship("Refund", back_populates="order", order_by="Refund.id")
    refund_requests = relationship("RefundRequest", back_populates="order",
                                   order_by="RefundRequest.id")

    @property
    def total(self) -> Money:
        return Money(self.amount, self.currency)


class OrderItem(db.Model):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_amount: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="items")
    product = relationship("Product")
