"""What reconciliation with the provider found and could not repair, for an operator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._base import UTCDateTime, utcnow


class ReconciliationIssue(db.Model):
    """One disagreement between our rows and the provider's, recorded once however many
    runs see it (``kind`` and ``subject``), with when it was first and last seen."""

    __tablename__ = "reconciliation_issues"
    __table_args__ = (UniqueConstraint("kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100))  # the provider's or our reference
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
