"""The mail telling a buyer that the shop declined their refund request, with the shop's
reason, in the language they bought in (the order's locale).

It goes as the receipt does: the transaction that declines asks for it
(``enqueue_decline_mails`` after commit); ``send_decline_mail`` claims the request
(``decline_mail_claimed_at``, unless someone holds a fresh claim), sends, then sets
``decline_mailed_at``; a failed send gives the claim back and the task is retried
(``RECEIPT_RETRIES`` times, ``RECEIPT_RETRY_DELAY`` apart). A periodic sweep re-enqueues
recent declines still not mailed. A buyer may get it twice, never not at all.
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

from ..extensions import db
from ..i18n import supported_locale
from ..links import ORDER_PAGE, page_url
from ..models import RefundRequest
from ..models._base import utcnow
from ..models.requests import RefundRequestStatus
from ..tasks import get_tasks, register_periodic, register_task

log = logging.getLogger(__name__)


def _unmailed(now: datetime):
    """Declines whose mail is due: not sent, and nobody sending it (no claim, or one
    older than RECEIPT_CLAIM_SECONDS, left by a worker that died)."""
    stale = now - timedelta(seconds=current_app.config["RECEIPT_CLAIM_SECONDS"])
    return and_(RefundRequest.status == RefundRequestStatus.DECLINED,
                RefundRequest.decline_mailed_at.is_(None),
                or_(RefundRequest.decline_mail_claimed_at.is_(None),
                    RefundRequest.decline_mail_claimed_at < stale))


def send_decline_mail(request_id: int, now: datetime | None = None) -> bool:
    """Mail the buyer of declined request ``request_id`` the shop's answer unless it was
    sent already or another worker is sending it; True when this call sent it. A buyer
    who deleted their account has nobody to mail: marked sent, not sent. Raises when
    sending fails, the request left unmailed for a retry."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(RefundRequest).where(RefundRequest.id == request_id, _unmailed(now))
        .values(decline_mail_claimed_at=now)
    ).rowcount
    db.session.commit()
    if not claimed:
        return False
    request = db.session.get(RefundRequest, request_id)
    sent = request.buyer.deleted_at is None
    if sent:
        try:
            _message(request).send()
        except Exception:
            db.session.execute(update(RefundRequest).where(RefundRequest.id == request_id)
                               .values(decline_mail_claimed_at=None))
            db.session.commit()
            log.warning("decline of refund request %s not mailed; it will be retried",
                        request.public_id)
            raise
    db.session.execute(update(RefundRequest).where(RefundRequest.id == request_id)
                       .values(decline_mailed_at=utcnow()))
    db.session.commit()
    return sent


def _message(request: RefundRequest) -> EmailMessage:
    order = request.order
    locale = supported_locale(order.locale) or current_app.config["BABEL_DEFAULT_LOCALE"]
    link = page_url(ORDER_PAGE, order_id=order.public_id)
    with force_locale(locale):
        shop = order.seller.name
        body = "\n".join([
            _("%(shop)s declined your request for a refund of order %(id)s.", shop=shop,
              id=order.public_id),
            "",
            _("Their reason:"),
            request.decline_reason,
            "",
            _("You can see the order, and ask again, in your account:"),
            link,
        ]) + "\n"
        return EmailMessage(
            subject=_("%(shop)s declined your refund request for order %(id)s", shop=shop,
                      id=order.public_id),
            body=body, to=[order.buyer_email])


def enqueue_decline_mails(request_ids) -> None:
    for request_id in request_ids:
        get_tasks().enqueue("send_decline_mail", request_id)


def enqueue_unmailed_declines(now: datetime | None = None, limit: int = 500) -> int:
    """Hand the queue every request declined within ``RECEIPT_SWEEP_DAYS`` whose mail was
    not sent (its task was lost, in a crash say). Returns how many."""
    now = now or utcnow()
    since = now - timedelta(days=current_app.config["RECEIPT_SWEEP_DAYS"])
    ids = db.session.scalars(
        db.select(RefundRequest.id)
        .where(_unmailed(now), RefundRequest.closed_at >= since)
        .order_by(RefundRequest.closed_at).limit(limit)
    ).all()
    enqueue_decline_mails(ids)
    return len(ids)


def init_app(app: Flask) -> None:
    """Register the mail's task and its sweep (every 15 minutes)."""
    register_task(app, "send_decline_mail", send_decline_mail,
                  retries=app.config["RECEIPT_RETRIES"],
                  retry_delay=app.config["RECEIPT_RETRY_DELAY"])
    register_periodic(app, "sweep_decline_mails", crontab(minute="*/15"),
                      enqueue_unmailed_declines)
