"""Orders never paid expire, and give back what they reserved.

An order still pending ``ORDER_EXPIRY_SECONDS`` after it was opened (longer than a buy
flow page lives, so nobody is still paying it) expires: its card attempts are settled
first (read at the provider and cancelled there while they wait for the buyer, as
``charges.settle_attempt`` does; one the provider still processes keeps the order
pending until a later run), then, under the order's lock, its credit held is given back
and it becomes ``expired`` (``order.expired`` is announced). A charge that succeeds
after all is refunded as an overpayment by the status writer.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..locks import locked
from ..models import Order, Payment
from ..models._base import utcnow
from . import get_provider
from .base import PaymentError
from .service import apply_order_action, apply_payment_action
from .states import Action, OPEN_PAYMENT_STATUSES, OrderAction, OrderStatus, PaymentStatus

log = logging.getLogger(__name__)


def expire_orders(now=None, limit: int = 200) -> int:
    """Expire the orders left unpaid too long (the module docstring); how many. Commits."""
    from .charges import ChargeInProgress, settle_attempt

    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["ORDER_EXPIRY_SECONDS"])
    order_ids = db.session.scalars(
        db.select(Order.id).where(Order.status == OrderStatus.PENDING,
                                  Order.created_at < cutoff)
        .order_by(Order.id).limit(limit)).all()
    expired = 0
    for order_id in order_ids:
        try:
            for payment in _open_card_attempts(order_id):
                settle_attempt(payment)
        except (ChargeInProgress, PaymentError):
            db.session.rollback()
            continue
        if _expire(order_id):
            expired += 1
    if expired:
        log.info("expired %s unpaid orders", expired)
    return expired


def expire_orders_task() -> int:
    """The task queue's entry."""
    return expire_orders()


def _open_card_attempts(order_id: int) -> list[Payment]:
    return db.session.scalars(db.select(Payment).where(
        Payment.order_id == order_id, Payment.provider == get_provider().name,
        Payment.status.in_(OPEN_PAYMENT_STATUSES))).all()


def _expire(order_id: int) -> bool:
    order = locked(Order, order_id)
    if order.status != OrderStatus.PENDING or any(
            p.status in OPEN_PAYMENT_STATUSES for p in order.payments):
        db.session.commit()
        return False
    for held in [p for p in order.payments if p.status == PaymentStatus.AUTHORIZED]:
        apply_payment_action(held, Action.CANCEL, detail={"reason": "the order expired"})
    apply_order_action(order, OrderAction.EXPIRE)
    db.session.commit()
    return True
