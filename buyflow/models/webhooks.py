"""Outbound webhooks: sellers' endpoints, the outbox of events, deliveries and their log.

An event row is written in the same transaction as the change it tells of; delivering it
is the task queue's job (``sellers.webhooks``).
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._base import PublicRecord, UTCDateTime, utcnow
from .encrypted import EncryptedText


class WebhookEndpoint(PublicRecord, db.Model):
    """Where a seller receives Standard Webhooks, signed with the endpoint's secret."""

    __tablename__ = "webhook_endpoints"

    public_id_prefix = "we"

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    # Readable, because it signs, so encrypted at rest under SECRETS_KEYS
    # (models/encrypted.py); shown to the seller once, masked afterwards.
    secret: Mapped[str] = mapped_column(EncryptedText)
    # The secret before the last rotation, which also signs deliveries until
    # ``previous_secret_until`` (WEBHOOK_SECRET_GRACE_HOURS), so the seller's receiver may
    # take the new one meanwhile (Standard Webhooks: several signatures in one header).
    previous_secret: Mapped[str | None] = mapped_column(EncryptedText)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))

    seller = relationship("Seller", back_populates="webhook_endpoints")

    @staticmethod
    def new_secret() -> str:
        """A Standard Webhooks secret: ``whsec_`` and base64 of 32 random bytes."""
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEvent(PublicRecord, db.Model):
    """Something a seller is told; its public id is the stable ``webhook-id``."""

    __tablename__ = "webhook_events"

    public_id_prefix = "msg"

    __table_args__ = (
        # An order's events, newest first (the console's order timeline).
        Index("ix_webhook_events_order", "order_id", "id"),
    )

    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    # The order the event is about, when it is about one (its payload names it too).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    type: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict] = mapped_column(JSON)

    # In the order they were made: the console lists them so, on PostgreSQL as on SQLite.
    deliveries: Mapped[list[WebhookDelivery]] = relationship(back_populates="event",
                                                             order_by="WebhookDelivery.id")


class WebhookDelivery(db.Model):
    """One event on its way to one endpoint."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "endpoint_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    # pending -> delivered | failed (gave up after the last retry) | canceled (endpoint off)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event: Mapped[WebhookEvent] = relationship(back_populates="deliveries")
    endpoint: Mapped[WebhookEndpoint] = relationship()
    log: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="delivery", order_by="WebhookAttempt.id"
    )


class WebhookAttempt(db.Model):
    """The delivery log: one row per attempt, with what the endpoint answered."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(Integer)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="log")
