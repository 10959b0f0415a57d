"""A buyer's saved cards: kept at the provider, attached to the buyer's customer; we keep
what to show (brand, last 4, expiry) and which one is the default.

Provider calls come first: when one fails, nothing changes here. Each change is written
with its audit entry; the caller commits them together (``keep_paid_card``, which keeps
the card that paid, commits its own).
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Buyer, Card, Payment
from ..payments import get_provider
from ..payments.base import ChargeOutcome, PaymentError, SavedCard
from ..payments.states import PaymentStatus
from ..tasks import get_tasks, register_task
from .audit import record_change

log = logging.getLogger(__name__)

KEEP_PAID_CARD_TASK = "keep_paid_card"


def save_card(buyer: Buyer, saved: SavedCard) -> Card:
    """Keep ``saved`` (already attached to the buyer's customer) as one of the buyer's
    cards; the first card becomes the default. Saving the same card again changes
    nothing."""
    existing = kept_card(buyer, saved.method_ref)
    if existing is not None:
        return existing
    card = Card(buyer=buyer, provider=get_provider().name,
                provider_method_ref=saved.method_ref, brand=saved.card.brand,
                last4=saved.card.last4, exp_month=saved.card.exp_month,
                exp_year=saved.card.exp_year, is_default=not buyer.cards)
    db.session.add(card)
    db.session.flush()
    if card.is_default:
        get_provider().set_default_card(buyer.provider_customer_ref, card.provider_method_ref)
    record_change(buyer, "card.added", card.public_id, brand=card.brand, last4=card.last4)
    return card


def kept_card(buyer: Buyer, method_ref: str) -> Card | None:
    """The buyer's card kept for the provider's payment method ``method_ref``, if kept."""
    return db.session.scalar(db.select(Card).filter_by(buyer_id=buyer.id,
                                                       provider_method_ref=method_ref))


def keep_paid_card(payment: Payment, outcome: ChargeOutcome) -> Card | None:
    """The card that paid ``payment`` kept as one of its buyer's cards, when the charge
    was opened to keep it (``outcome.keeps_card``: asked for only by a checkout that
    proved the email, see ``flow.checkout.start_checkout``) and it succeeded; None
    otherwise. Whoever learns of the success first keeps it — the buyer's page, or the
    provider's webhook when the page was closed —; the other finds it kept, also when
    both keep it at the same moment. Commits, on its own: the payment is recorded
    before, and stays so when the card cannot be kept now (the provider did not answer
    when asked to make it the default): the task ``keep_paid_card`` is then queued to
    keep it later, with retries."""
    try:
        return _keep_paid_card(payment, outcome)
    except PaymentError:
        db.session.rollback()
        log.warning("could not keep the card that paid %s now; queued to keep it later",
                    payment.public_id)
        _queue_keeping(payment.id)
        return None


def _keep_paid_card(payment: Payment, outcome: ChargeOutcome) -> Card | None:
    """``keep_paid_card``'s work; PaymentError when the provider does not answer."""
    buyer = payment.order.buyer
    if not (outcome.keeps_card and outcome.card is not None and buyer is not None
            and payment.status == PaymentStatus.SUCCEEDED):
        return None
    try:
        card = save_card(buyer, outcome.card)
        db.session.commit()
        return card
    except IntegrityError:  # kept by the other at the same moment
        db.session.rollback()
    return None


def _queue_keeping(payment_id: int) -> None:
    try:
        get_tasks().enqueue(KEEP_PAID_CARD_TASK, payment_id)
    except Exception:  # the queue is down: the buyer adds the card again from the account
        log.exception("could not queue keeping the card that paid payment %s", payment_id)


def keep_paid_card_task(payment_id: int) -> bool:
    """The task queue's entry: keep the card that paid payment ``payment_id``, as its
    provider says now (the card, whether it was to be kept); whether one is kept. A
    provider that still does not answer raises PaymentError, so the task is retried."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.status != PaymentStatus.SUCCEEDED \
            or not payment.provider_payment_ref:
        return False
    outcome = get_provider().charge_status(payment.provider_payment_ref)
    return _keep_paid_card(payment, outcome) is not None


def init_app(app: Flask) -> None:
    """Register the task that keeps a paid card the provider could not be asked to make
    the default at payment (retried ``KEEP_CARD_RETRIES`` times, ``KEEP_CARD_RETRY_DELAY``
    seconds apart)."""
    register_task(app, KEEP_PAID_CARD_TASK, keep_paid_card_task,
                  retries=app.config["KEEP_CARD_RETRIES"],
                  retry_delay=app.config["KEEP_CARD_RETRY_DELAY"])


def find_card(buyer: Buyer, card_id: str) -> Card | None:
    """The buyer's card with public id ``card_id``; None for anyone else's."""
    return db.session.scalar(db.select(Card).filter_by(buyer_id=buyer.id, public_id=card_id))


def make_default(buyer: Buyer, card: Card) -> None:
    """Make ``card`` the one charged by default, at the provider and here."""
    if card.is_default:
        return
    get_provider().set_default_card(buyer.provider_customer_ref, card.provider_method_ref)
    for other in buyer.cards:
        other.is_default = other.id == card.id
    record_change(buyer, "card.made_default", card.public_id)


def remove_card(buyer: Buyer, card: Card) -> None:
    """Detach ``card`` at the provider, then forget it. When it was the default, the
    newest remaining card becomes the default (at the provider first: a card is detached
    only once nothing else is left to fail)."""
    provider = get_provider()
    others = [other for other in buyer.cards if other is not card]
    successor = others[-1] if card.is_default and others else None
    if successor is not None:
        provider.set_default_card(buyer.provider_customer_ref, successor.provider_method_ref)
    provider.detach_card(card.provider_method_ref)
    buyer.cards.remove(card)
    db.session.delete(card)
    record_change(buyer, "card.removed", card.public_id, brand=card.brand, last4=card.last4)
    if successor is not None:
        successor.is_default = True
