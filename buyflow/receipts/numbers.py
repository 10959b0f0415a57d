"""Receipt numbers: each paid order's receipt gets one of its own, once, when the order is
first paid (subscribed to ``order.paid``, so in the paying transaction: the number
commits or rolls back with the payment)."""

from __future__ import annotations

from ..extensions import db
from ..models import Order, Receipt
from ..models._base import insert_for, utcnow


def issue_receipt(order: Order) -> Receipt:
    """The receipt of paid ``order``, issued now unless it already has one. Written, not
    committed. Announced twice, or by two transactions at once, the order still gets one:
    the insert does nothing when a receipt for the order exists (its unique order_id)."""
    db.session.execute(
        insert_for(db.session, Receipt)
        .values(order_id=order.id, issued_at=order.paid_at or utcnow())
        .on_conflict_do_nothing(index_elements=["order_id"]))
    return receipt_of(order)


def receipt_of(order: Order) -> Receipt | None:
    """The receipt issued for ``order``, or None when it was never paid."""
    return db.session.scalar(db.select(Receipt).filter_by(order_id=order.id))
