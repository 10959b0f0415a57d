"""The catalog: what each seller sells, at which price."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..money import Money
from ._base import PublicRecord


class Product(PublicRecord, db.Model):
    __tablename__ = "products"

    public_id_prefix = "prod"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A credit pack: each one bought grants this many units (minor units of a currency,
    # or the seller's named points) once its order is paid (ledger/packs.py).
    credit_amount: Mapped[int | None] = mapped_column(BigInteger)
    credit_unit: Mapped[str | None] = mapped_column(String(40))

    seller = relationship("Seller")

    @property
    def price(self) -> Money:
        return Money(self.amount, self.currency)
