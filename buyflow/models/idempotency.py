"""Idempotency keys of sellers' API requests, with the first answer to replay."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import UTCDateTime, utcnow


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("seller_id", "key"),
        # The hourly purge of finished records past their retention.
        Index("ix_idempotency_records_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"))
    key: Mapped[str] = mapped_column(String(255))
    # What the request was (method, path, body): a key is bound to one request.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="in_progress")  # or "done"
    # The request holding the key runs until then; past it (a crash, or an answer of 5xx
    # that released it) a retry with the key takes over and resumes the work.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the work made, to resume from (the recovery point): a refund's public id.
    resource: Mapped[str | None] = mapped_column(String(60))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
