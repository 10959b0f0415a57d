"""Sellers: the sites that sell through Buyflow, their origins and their keys."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import PublicRecord


def hash_api_key(api_key: str) -> str:
    """API keys are long random strings, so one SHA-256 is enough to keep a database
    leak from revealing them."""
    return hashlib.sha256(api_key.encode()).hexdigest()


class Seller(PublicRecord, db.Model):
    __tablename__ = "sellers"

    public_id_prefix = "sel"

    name: Mapped[str] = mapped_column(String(200))
    # Origins (scheme://host[:port]) allowed to open the buy flow and to frame it.
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Secrets that sign results for this seller; the last one signs, all verify.
    signing_secrets: Mapped[list[str]] = mapped_column(JSON, default=list)
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    default_locale: Mapped[str] = mapped_column(String(16), default="en")

    def allows_origin(self, origin: str | None) -> bool:
        return bool(origin) and origin in self.origins

    @classmethod
    def by_api_key(cls, api_key: str) -> Seller | None:
        return db.session.scalar(db.select(cls).filter_by(api_key_hash=hash_api_key(api_key)))

    @staticmethod
    def new_api_key() -> str:
        return "sk_" + secrets.token_urlsafe(32)

    @staticmethod
    def new_signing_secret() -> str:
        return "whsec_" + secrets.token_urlsafe(32)
