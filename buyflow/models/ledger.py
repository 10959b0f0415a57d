"""The credit ledger: accounts, and the double-entry transactions between them.

Append-only: a transaction and its entries are never changed; a correction is another
transaction. Every transaction's entries sum to zero. An account's ``balance`` is the sum
of its entries, kept up to date by the same statement that adds an entry (ledger/book.py),
and a buyer's account can never go below zero (a check constraint backs the conditional
update).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord, UTCDateTime, partial_index, utcnow


class LedgerAccount(PublicRecord, db.Model):
    """Units of one seller held by a buyer (kind "buyer"), or one of the seller's own
    accounts the units come from and go to: "issued" (granted, debited, given back as
    credit), "held" (reserved for unpaid orders), "redeemed" (spent on orders)."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        partial_index("uq_ledger_buyer_accounts", "seller_id", "buyer_id", "unit", "kind",
                      unique=True, where="buyer_id IS NOT NULL"),
        partial_index("uq_ledger_seller_accounts", "seller_id", "unit", "kind", unique=True,
                      where="buyer_id IS NULL"),
        CheckConstraint("kind != 'buyer' OR balance >= 0", name="ck_buyer_balance_positive"),
    )

    public_id_prefix = "ca"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"), index=True)
    # A currency (ISO 4217, minor units) or the seller's points: "points:<name>".
    unit: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)

    seller = relationship("Seller")
    buyer = relationship("Buyer")


class LedgerTransaction(PublicRecord, db.Model):
    """One movement of units, its entries summing to zero, with what caused it."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        Index("uq_ledger_transactions_key", "seller_id", "idempotency_key", unique=True),
    )

    public_id_prefix = "ct"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"), index=True)
    unit: Mapped[str] = mapped_column(String(40))
    # grant, debit, hold, capture, release, refund (ledger/book.py's KINDS)
    kind: Mapped[str] = mapped_column(String(20))
    # What it is for: an order, a refund part, a seller's grant, a referral...
    source_type: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str | None] = mapped_column(String(60))
    # The units the buyer's account gained (positive) or lost (negative): for people.
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str] = mapped_column(String(255))
    # Who did it: "api_key:<id>", "member:<id>", "buyer:<id>", "system".
    actor: Mapped[str] = mapped_column(String(100), default="system")

    seller = relationship("Seller")
    buyer = relationship("Buyer")
    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", order_by="LedgerEntry.id"
    )


class LedgerEntry(db.Model):
    """One side of a transaction: ``amount`` added to (or, negative, taken from) an account."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"),
                                                index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()
