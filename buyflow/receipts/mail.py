"""The receipt email: sent once to the buyer after the order is paid, in the order's
language, with the receipt as a PDF.

The transaction that makes an order paid also asks for its receipt
(``send_receipt_after_commit``); when it commits, the order goes to the task queue.
``send_receipt`` claims the order (``receipt_claimed_at``, only where nobody holds a fresh
claim), so two workers never both send it, sends, then sets ``receipt_sent_at``; a failed
send gives the claim back and the task is retried. A periodic sweep
(``enqueue_unsent_receipts``) re-enqueues recently paid orders still without a receipt:
their task was lost, or the worker holding the claim died.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mailman import EmailMessage
from huey import crontab
from sqlalchemy import and_, or_, update

from ..events import subscribe
from ..extensions import db
from ..i18n import supported_locale
from ..links import RECEIPT_PAGE, page_url
from ..models import Order
from ..models._base import utcnow
from ..tasks import enqueue_after_commit, get_tasks, register_periodic, register_task
from .content import RECEIPTED, Receipt, build_receipt
from .pdf import receipt_pdf

log = logging.getLogger(__name__)

def init_app(app: Flask) -> None:
    """Email each order's receipt once it is paid (the task queue sends it, retries it,
    and a sweep every quarter of an hour finds those whose task was lost)."""
    subscribe(app, "order.paid", send_receipt_after_commit)
    register_task(app, "send_receipt", send_receipt, retries=app.config["RECEIPT_RETRIES"],
                  retry_delay=app.config["RECEIPT_RETRY_DELAY"])
    register_periodic(app, "sweep_receipts", crontab(minute="*/15"), enqueue_unsent_receipts)


def send_receipt_after_commit(order: Order) -> None:
    """Have ``order``'s receipt emailed once the current transaction commits."""
    enqueue_after_commit(db.session(), _enqueue, [order.id])


def _unsent(now: datetime):
    """Orders whose receipt is due: not sent, and nobody is sending it (no claim, or a
    claim older than RECEIPT_CLAIM_SECONDS, left by a worker that died)."""
    stale = now - timedelta(seconds=current_app.config["RECEIPT_CLAIM_SECONDS"])
    return and_(Order.status.in_(RECEIPTED), Order.receipt_sent_at.is_(None),
                or_(Order.receipt_claimed_at.is_(None), Order.receipt_claimed_at < stale))


def send_receipt(order_id: int, now: datetime | None = None) -> bool:
    """Email the receipt of paid order ``order_id`` unless it was sent already or another
    worker is sending it; True when this call sent it. Raises when sending fails, the
    order left unsent for a retry."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(Order).where(Order.id == order_id, _unsent(now))
        .values(receipt_claimed_at=now)
    ).rowcount
    db.session.commit()
    if not claimed:
        return False
    order = db.session.get(Order, order_id)
    try:
        _message(order).send()
    except Exception:
        db.session.execute(update(Order).where(Order.id == order_id)
                           .values(receipt_claimed_at=None))
        db.session.commit()
        log.warning("receipt of order %s not sent; it will be retried", order.public_id)
        raise
    # A crash right here sends the receipt again once the claim is stale: a buyer may
    # get it twice, never not at all.
    db.session.execute(update(Order).where(Order.id == order_id)
                       .values(receipt_sent_at=utcnow()))
    db.session.commit()
    return True


def receipt_file_name(order: Order) -> str:
    return f"receipt-{order.public_id}.pdf"


def _message(order: Order) -> EmailMessage:
    locale = supported_locale(order.locale) or current_app.config["BABEL_DEFAULT_LOCALE"]
    receipt = build_receipt(order, locale)
    link = page_url(RECEIPT_PAGE, order_id=order.public_id)
    with force_locale(locale):
        message = EmailMessage(
            subject=_("Your receipt from %(shop)s, order %(id)s", shop=receipt.seller_name,
                      id=receipt.order_id),
            body=_body(receipt, link),
            to=[order.buyer_email],
        )
    message.attach(receipt_file_name(order), receipt_pdf(receipt), "application/pdf")
    return message


def _body(receipt: Receipt, link: str) -> str:
    items = [f"  {line.name} × {line.quantity}: {line.amount}" for line in receipt.lines]
    return "\n".join([
        _("Thank you for your purchase from %(shop)s.", shop=receipt.seller_name),
        "",
        *items,
        _("Total: %(amount)s", amount=receipt.total),
        "",
        _("Your receipt is attached as a PDF. You can also see it in your account:"),
        link,
    ]) + "\n"


def enqueue_unsent_receipts(now: datetime | None = None, limit: int = 500) -> int:
    """Hand the queue every order paid within ``RECEIPT_SWEEP_DAYS`` whose receipt was
    not sent (its task was lost, in a crash say). Returns how many."""
    now = now or utcnow()
    since = now - timedelta(days=current_app.config["RECEIPT_SWEEP_DAYS"])
    ids = db.session.scalars(
        db.select(Order.id)
        .where(_unsent(now), Order.paid_at >= since)
        .order_by(Order.paid_at).limit(limit)
    ).all()
    _enqueue(ids)
    return len(ids)


def _enqueue(order_ids) -> None:
    for order_id in order_ids:
        get_tasks().enqueue("send_receipt", order_id)
