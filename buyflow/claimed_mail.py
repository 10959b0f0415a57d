"""A mail sent once per row by the task queue, claimed so two workers never both send it.

A ``ClaimedMail`` says which rows it mails (the model, the condition that makes a row due,
its claim and sent columns, the column the sweep looks back by), how a row's message is
built and the names of its task and sweep. ``send`` claims the row with a conditional
update (only where nobody holds a fresh claim: one older than ``RECEIPT_CLAIM_SECONDS``
was left by a worker that died and is taken over), sends, then marks the row sent; a
failed send gives the claim back and raises, so the task is retried. ``sweep`` re-enqueues
rows still due within ``RECEIPT_SWEEP_DAYS``: their task was lost, or the worker holding
the claim died. A buyer may get a mail twice, never not at all.

Every claimed mail uses the receipt's settings (``RECEIPT_CLAIM_SECONDS``,
``RECEIPT_RETRIES``, ``RECEIPT_RETRY_DELAY``, ``RECEIPT_SWEEP_DAYS``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from flask_mailman import EmailMessage
from huey import crontab
from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.orm import InstrumentedAttribute

from .extensions import db
from .models._base import utcnow
from .tasks import get_tasks, register_periodic, register_task

log = logging.getLogger(__name__)


# eq=False: one mail is equal to itself only; comparing the fields would compare SQL
# columns, which builds SQL expressions instead of answering.
@dataclass(frozen=True, eq=False, kw_only=True)
class ClaimedMail:
    """One kind of mail: which rows it goes to, how it is built, its tasks' names."""

    model: type
    due: ColumnElement[bool]  # what makes a row want the mail, sent or not
    claimed_at: InstrumentedAttribute
    sent_at: InstrumentedAttribute
    dated_by: InstrumentedAttribute  # the sweep looks back RECEIPT_SWEEP_DAYS by it
    message: Callable[[Any], EmailMessage | None]  # the row's mail; None: nobody to mail
    task: str  # sends one row's mail
    sweep_task: str  # runs ``sweep``
    what: str  # names a row in the log with its public id: "receipt of order"

    def register(self, app: Flask) -> None:
        """Make ``send`` the task ``self.task`` (retried ``RECEIPT_RETRIES`` times,
        ``RECEIPT_RETRY_DELAY`` seconds apart) and ``sweep`` a periodic task every quarter
        of an hour."""
        register_task(app, self.task, self.send, retries=app.config["RECEIPT_RETRIES"],
                      retry_delay=app.config["RECEIPT_RETRY_DELAY"])
        register_periodic(app, self.sweep_task, crontab(minute="*/15"), self.sweep)

    def _unsent(self, now: datetime) -> ColumnElement[bool]:
        """Rows whose mail is due: not sent, and nobody is sending it (no claim, or a
        claim older than RECEIPT_CLAIM_SECONDS, left by a worker that died)."""
        stale = now - timedelta(seconds=current_app.config["RECEIPT_CLAIM_SECONDS"])
        return and_(self.due, self.sent_at.is_(None),
                    or_(self.claimed_at.is_(None), self.claimed_at < stale))

    def send(self, row_id: int, now: datetime | None = None) -> bool:
        """Mail row ``row_id`` unless it was mailed already or another worker is mailing
        it; True when this call sent it. A row ``message`` has nobody to mail for is marked
        sent, not sent (False). Raises when sending fails, the row left unsent, its claim
        given back, for a retry."""
        now = now or utcnow()
        model = self.model
        claimed = db.session.execute(
            update(model).where(model.id == row_id, self._unsent(now))
            .values({self.claimed_at: now})
        ).rowcount
        db.session.commit()
        if not claimed:
            return False
        row = db.session.get(model, row_id)
        try:
            message = self.message(row)
            if message is not None:
                message.send()
        except Exception:
            db.session.execute(update(model).where(model.id == row_id)
                               .values({self.claimed_at: None}))
            db.session.commit()
            log.warning("%s %s not sent; it will be retried", self.what, row.public_id)
            raise
        # A crash right here sends the mail again once the claim is stale: a buyer may
        # get it twice, never not at all.
        db.session.execute(update(model).where(model.id == row_id)
                           .values({self.sent_at: utcnow()}))
        db.session.commit()
        return message is not None

    def enqueue(self, row_ids: Iterable[int]) -> None:
        """Queue ``self.task`` for each of ``row_ids``."""
        for row_id in row_ids:
            get_tasks().enqueue(self.task, row_id)

    def sweep(self, now: datetime | None = None, limit: int = 500) -> int:
        """Queue the mail of every row due within ``RECEIPT_SWEEP_DAYS`` (by ``dated_by``)
        and still unsent (its task was lost, in a crash say), oldest first, ``limit`` at
        most. Returns how many."""
        now = now or utcnow()
        since = now - timedelta(days=current_app.config["RECEIPT_SWEEP_DAYS"])
        ids = db.session.scalars(
            db.select(self.model.id)
            .where(self._unsent(now), self.dated_by >= since)
            .order_by(self.dated_by).limit(limit)
        ).all()
        self.enqueue(ids)
        return len(ids)
