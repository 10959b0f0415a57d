"""Buyers, identified by email, their customer record at the payment provider, and the
one-time codes they sign in with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import UTCDateTime, utcnow


class Buyer(db.Model):
    __tablename__ = "buyers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    provider_customer_ref: Mapped[str | None] = mapped_column(String(100))
    # Bumped by "sign out everywhere": sessions made before carry an older number.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SignInCode(db.Model):
    """A one-time code (and its link) sent to an email: single use, short-lived, a few
    tries. Only keyed hashes are stored."""

    __tablename__ = "sign_in_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyers.id"))
