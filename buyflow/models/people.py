"""People and what they may do: a person is a ``Buyer`` row (one sign-in by a mailed
code), who may also be a member of sellers (``Membership``, with a role), be invited to
one (``Invitation``), be an operator (``Buyer.is_operator``); and who may not come in
(``Ban``, ``BlacklistPattern``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord, UTCDateTime, utcnow


class SellerRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    SUPPORT = "support"  # orders, refunds, refund requests, customers
    VIEWER = "viewer"  # reads only


class Membership(db.Model):
    """A person's place in a seller's team: one role per person and seller."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("seller_id", "buyer_id", name="uq_memberships_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyers.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # SellerRole
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    seller = relationship("Seller")
    person = relationship("Buyer")


class Invitation(PublicRecord, db.Model):
    """An invitation to join a seller's team with a role, mailed as a signed, expiring
    link; used once (``accepted_at``) or withdrawn (``revoked_at``)."""

    __tablename__ = "invitations"

    public_id_prefix = "inv"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))  # SellerRole
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    seller = relationship("Seller")
    invited_by = relationship("Buyer", foreign_keys=[invited_by_id])


class BanKind(StrEnum):
    PERSON = "person"  # a person and every email of theirs
    EMAIL = "email"  # one email address
    DOMAIN = "domain"  # a domain and its subdomains


class Ban(PublicRecord, db.Model):
    """Who may not sign in, sign up, add an email or buy; in force until ``lifted_at``."""

    __tablename__ = "bans"

    public_id_prefix = "ban"

    kind: Mapped[str] = mapped_column(String(20))  # BanKind
    # The email or domain (lower case), or for a person their primary email when banned.
    value: Mapped[str] = mapped_column(String(320), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    person = relationship("Buyer", foreign_keys=[buyer_id])


class BlacklistPattern(PublicRecord, db.Model):
    """A regular expression over whole email addresses that may not come in."""

    __tablename__ = "blacklist_patterns"

    public_id_prefix = "bl"

    pattern: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
