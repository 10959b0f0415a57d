"""The mail telling a buyer that the shop declined their refund request, with the shop's
reason, in the language they bought in (the order's locale).

It goes as the receipt does, through ``claimed_mail.py``: the transaction that declines
asks for it (``enqueue_decline_mails`` after commit); ``send_decline_mail`` claims the
request (``decline_mail_claimed_at``, unless someone holds a fresh claim), sends, then sets
``decline_mailed_at``; a failed send gives the claim back and the task is retried
(``RECEIPT_RETRIES`` times, ``RECEIPT_RETRY_DELAY`` apart). A periodic sweep re-enqueues
recent declines still not mailed. A buyer may get it twice, never not at all.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mailman import EmailMessage

from ..claimed_mail import ClaimedMail
from ..i18n import supported_locale
from ..links import ORDER_PAGE, page_url
from ..models import RefundRequest
from ..models.requests import RefundRequestStatus


def _message(request: RefundRequest) -> EmailMessage | None:
    """The mail of ``request``'s decline; None when its buyer deleted their account
    (nobody to mail)."""
    if request.buyer.deleted_at is not None:
        return None
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


_DECLINE_MAILS = ClaimedMail(
    model=RefundRequest, due=RefundRequest.status == RefundRequestStatus.DECLINED,
    dated_by=RefundRequest.closed_at, claimed_at=RefundRequest.decline_mail_claimed_at,
    sent_at=RefundRequest.decline_mailed_at, message=_message,
    what="decline of refund request", task="send_decline_mail",
    sweep_task="sweep_decline_mails")


def send_decline_mail(request_id: int, now: datetime | None = None) -> bool:
    """Mail the buyer of declined request ``request_id`` the shop's answer unless it was
    sent already or another worker is sending it; True when this call sent it. A buyer
    who deleted their account has nobody to mail: marked sent, not sent. Raises when
    sending fails, the request left unmailed for a retry."""
    return _DECLINE_MAILS.send(request_id, now)


def enqueue_decline_mails(request_ids) -> None:
    """Queue the mail of each declined request of ``request_ids``."""
    _DECLINE_MAILS.enqueue(request_ids)


def enqueue_unmailed_declines(now: datetime | None = None, limit: int = 500) -> int:
    """Hand the queue every request declined within ``RECEIPT_SWEEP_DAYS`` whose mail was
    not sent (its task was lost, in a crash say). Returns how many."""
    return _DECLINE_MAILS.sweep(now, limit)


def init_app(app: Flask) -> None:
    """Register the mail's task and its sweep (every 15 minutes)."""
    _DECLINE_MAILS.register(app)
