"""Receipts: the number of its own each paid order's receipt carries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import UTCDateTime, utcnow


class Receipt(db.Model):
    """An order's receipt, issued once when the order is first paid. Its row id is a
    sequence both databases hand out safely to concurrent payments, so numbers are
    unique and increasing, with no lock on a counter."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order = relationship("Order")

    @property
    def number(self) -> str:
        """The receipt number buyers and accountants quote, e.g. ``2026-000042``."""
        return f"{self.issued_at:%Y}-{self.id:06d}"
