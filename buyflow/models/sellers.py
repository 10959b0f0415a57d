"""Sellers: the sites that sell through Buyflow, their origins and their keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord, UTCDateTime, utcnow
from .encrypted import EncryptedStringList


def hash_api_key(api_key: str) -> str:
    """API keys are long random strings, so one SHA-256 is enough to keep a database
    leak from revealing them."""
    return hashlib.sha256(api_key.encode()).hexdigest()


class SellerStatus(StrEnum):
    PENDING = "pending"  # signed up, waiting for an operator's approval
    ACTIVE = "active"
    SUSPENDED = "suspended"  # by an operator: its flow and API refuse


class Seller(PublicRecord, db.Model):
    __tablename__ = "sellers"

    public_id_prefix = "sel"

    name: Mapped[str] = mapped_column(String(200))
    # Origins (scheme://host[:port]) allowed to open the buy flow and to frame it.
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Secrets that sign results and requests; the last one signs, all verify. They must
    # stay readable to sign with, unlike API keys, which are only ever compared: so they
    # are encrypted at rest, each under SECRETS_KEYS (models/encrypted.py).
    signing_secrets: Mapped[list[str]] = mapped_column(EncryptedStringList, default=list)
    default_locale: Mapped[str] = mapped_column(String(16), default="en")
    status: Mapped[str] = mapped_column(String(20), default=SellerStatus.ACTIVE,
                                        server_default="active")
    # Why an operator suspended it (shown to its team, never to buyers).
    status_reason: Mapped[str | None] = mapped_column(Text)
    # The currencies its products may be priced in (empty: any).
    currencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What buyers are told to do to pay offline (a bank transfer's details...).
    offline_instructions: Mapped[str | None] = mapped_column(Text)
    # Whether staff may record an offline payment for less than what is due.
    allow_partial_offline: Mapped[bool] = mapped_column(Boolean, default=False)

    # The brand the buy flow, receipts and emails show (sellers/brand.py checks it).
    # An accent colour as #rrggbb, used only where its contrast is good enough.
    accent_color: Mapped[str | None] = mapped_column(String(7))
    # The logo as uploaded (PNG, JPEG or WebP), served from our origin under its digest.
    logo_image: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(20))
    logo_digest: Mapped[str | None] = mapped_column(String(64))
    support_email: Mapped[str | None] = mapped_column(String(320))
    postal_address: Mapped[str | None] = mapped_column(Text)

    api_keys: Mapped[list[SellerApiKey]] = relationship(
        back_populates="seller", order_by="SellerApiKey.id"
    )
    webhook_endpoints = relationship(
        "WebhookEndpoint", back_populates="seller", order_by="WebhookEndpoint.id"
    )

    def allows_origin(self, origin: str | None) -> bool:
        return bool(origin) and origin in self.origins

    @classmethod
    def by_api_key(cls, api_key: str) -> Seller | None:
        """The seller owning the active API key ``api_key``, if any."""
        return db.session.scalar(
            db.select(cls).join(SellerApiKey).filter(
                SellerApiKey.key_hash == hash_api_key(api_key),
                SellerApiKey.revoked_at.is_(None),
            )
        )

    def issue_api_key(self) -> str:
        """Add a new active API key and return it; only its hash is kept."""
        api_key = "sk_" + secrets.token_urlsafe(32)
        self.api_keys.append(SellerApiKey(key_hash=hash_api_key(api_key), hint=api_key[-4:]))
        return api_key

    def add_signing_secret(self) -> str:
        """Add a new signing secret, which signs from now on, and return it."""
        secret = "sign_" + secrets.token_urlsafe(32)
        self.signing_secrets = [*self.signing_secrets, secret]
        return secret


class SellerApiKey(db.Model):
    __tablename__ = "seller_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(4))  # the last 4 characters, to tell keys apart
    name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    seller: Mapped[Seller] = relationship(back_populates="api_keys")
