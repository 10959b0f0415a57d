"""Buyers, identified by their primary email, their other verified emails, their customer
record and saved cards at the payment provider, and the one-time codes they confirm an
email with."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord, UTCDateTime, utcnow


class Buyer(db.Model):
    __tablename__ = "buyers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    provider_customer_ref: Mapped[str | None] = mapped_column(String(100))
    # Bumped by "sign out everywhere": sessions made before carry an older number.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the buyer deleted their account: the row stays for the orders, anonymized.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who runs this Buyflow service (the admin pages); granted by another operator or
    # the CLI (`people grant-operator`).
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Set by an operator: a deactivated person cannot sign in; their sessions end.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    emails: Mapped[list[BuyerEmail]] = relationship(
        back_populates="buyer", order_by="BuyerEmail.id", cascade="all, delete-orphan"
    )
    cards: Mapped[list[Card]] = relationship(
        back_populates="buyer", order_by="Card.id", cascade="all, delete-orphan"
    )


class BuyerEmail(PublicRecord, db.Model):
    """Another email of a buyer. It counts (purchases, sign-in) only once verified; an
    email belongs to one buyer at most."""

    __tablename__ = "buyer_emails"

    public_id_prefix = "em"

    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    buyer: Mapped[Buyer] = relationship(back_populates="emails")


class Card(PublicRecord, db.Model):
    """A card the buyer saved, attached to their customer at the provider. Never its
    number: what the provider tells us to show."""

    __tablename__ = "cards"

    public_id_prefix = "card"

    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_method_ref: Mapped[str] = mapped_column(String(100), unique=True)
    brand: Mapped[str] = mapped_column(String(20))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    buyer: Mapped[Buyer] = relationship(back_populates="cards")

    def expired(self, today: date) -> bool:
        """Whether the card's expiry month is over on ``today``."""
        return (self.exp_year, self.exp_month) < (today.year, today.month)


class SignInCode(db.Model):
    """A one-time code (and its link) sent to an email: single use, short-lived, a few
    tries. Only keyed hashes are stored. ``purpose`` keeps codes for different uses apart
    (signing in, verifying an added email, using saved cards in the buy flow)."""

    __tablename__ = "sign_in_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    purpose: Mapped[str] = mapped_column(String(20), default="sign_in", server_default="sign_in")
    code_hash: Mapped[str] = mapped_column(String(64))
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"))
