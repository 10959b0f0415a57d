"""The receipt email: sent once to the buyer after the order is paid, in the order's
language, with the receipt as a PDF.

The transaction that makes an order paid also asks for its receipt
(``send_receipt_after_commit``); when it commits, the order goes to the task queue.
``send_receipt`` claims the order (``receipt_claimed_at``, only where nobody holds a fresh
claim), so two workers never both send it, sends, then sets ``receipt_sent_at``; a failed
send gives the claim back and the task is retried. A periodic sweep
(``enqueue_unsent_receipts``) re-enqueues recently paid orders still without a receipt:
their task was lost, or the worker holding the claim died. The mechanism is
``claimed_mail.py``'s.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mailman import EmailMessage

from ..claimed_mail import ClaimedMail
from ..events import subscribe
from ..extensions import db
from ..i18n import supported_locale
from ..links import RECEIPT_PAGE, page_url
from ..models import Order
from ..tasks import enqueue_after_commit
from .content import RECEIPTED, Receipt, build_receipt
from .numbers import issue_receipt


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
    # fpdf2 and HarfBuzz only here (and in the PDF download): web workers never load them.
    from .pdf import receipt_pdf

    message.attach(receipt_file_name(order), receipt_pdf(receipt), "application/pdf")
    return message


def _body(receipt: Receipt, link: str) -> str:
    items = [f"  {line.name} × {line.quantity}: {line.amount}" for line in receipt.lines]
    paid_with = [_("Paid with: %(method)s", method=payment.method)
                 for payment in receipt.payments]
    return "\n".join([
        _("Thank you for your purchase from %(shop)s.", shop=receipt.seller_name),
        _("Receipt number: %(number)s", number=receipt.number),
        "",
        *items,
        _("Total: %(amount)s", amount=receipt.total),
        *paid_with,
        "",
        _("Your receipt is attached as a PDF. You can also see it in your account:"),
        link,
        *(["", receipt.labels["questions"]] if receipt.labels["questions"] else []),
        *(["", receipt.seller_name, *receipt.seller_address]
          if receipt.seller_address else []),
    ]) + "\n"


_RECEIPTS = ClaimedMail(
    model=Order, due=Order.status.in_(RECEIPTED), dated_by=Order.paid_at,
    claimed_at=Order.receipt_claimed_at, sent_at=Order.receipt_sent_at,
    message=_message, what="receipt of order",
    task="send_receipt", sweep_task="sweep_receipts")


def init_app(app: Flask) -> None:
    """Number each order's receipt when it is paid, and email it (the task queue sends
    it, retries it, and a sweep every quarter of an hour finds those whose task was
    lost)."""
    subscribe(app, "order.paid", issue_receipt)
    subscribe(app, "order.paid", send_receipt_after_commit)
    _RECEIPTS.register(app)


def send_receipt_after_commit(order: Order) -> None:
    """Have ``order``'s receipt emailed once the current transaction commits."""
    enqueue_after_commit(db.session(), _RECEIPTS.enqueue, [order.id])


def send_receipt(order_id: int, now: datetime | None = None) -> bool:
    """Email the receipt of paid order ``order_id`` unless it was sent already or another
    worker is sending it; True when this call sent it. Raises when sending fails, the
    order left unsent for a retry."""
    return _RECEIPTS.send(order_id, now)


def enqueue_unsent_receipts(now: datetime | None = None, limit: int = 500) -> int:
    """Hand the queue every order paid within ``RECEIPT_SWEEP_DAYS`` whose receipt was
    not sent (its task was lost, in a crash say). Returns how many."""
    return _RECEIPTS.sweep(now, limit)
