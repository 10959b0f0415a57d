"""Refunding a paid order, in full or in part, never more than was paid."""

from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..models import Order, Payment, Refund
from ..money import Money
from ..sellers.payloads import order_payload, refund_payload
from ..sellers.webhooks import record_event
from . import get_provider
from .base import PaymentError
from .service import apply_order_action
from .states import OrderAction, OrderStatus, PaymentStatus

_REFUNDABLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


@dataclass
class RefundRefused(Exception):
    code: str  # order_not_paid, amount_exceeds_refundable
    message: str


def refundable_amount(order: Order) -> int:
    """What can still be refunded: paid, less every refund not failed."""
    paid = sum(p.amount for p in order.payments if p.status == PaymentStatus.SUCCEEDED)
    refunded = sum(r.amount for r in order.refunds if r.status != "failed")
    return paid - refunded


def create_refund(order: Order, amount: int | None, reason: str = "") -> Refund:
    """Refund ``amount`` (all that is left when None) of ``order``'s payment.

    The amount is reserved by a pending refund row under the order's lock before the
    provider is called, so concurrent refunds cannot together exceed what was paid.
    RefundRefused when the order cannot be refunded so; PaymentError when the provider
    did not refund (recorded as failed) or could not be reached (left pending).
    """
    order = db.session.get(Order, order.id, with_for_update=True, populate_existing=True)
    if order.status not in _REFUNDABLE:
        raise RefundRefused("order_not_paid", "Only a paid order can be refunded.")
    left = refundable_amount(order)
    amount = left if amount is None else amount
    if amount > left or amount <= 0:
        raise RefundRefused("amount_exceeds_refundable",
                            f"At most {left} can still be refunded on this order.")
    payment = db.session.scalar(
        db.select(Payment).filter_by(order_id=order.id, status=PaymentStatus.SUCCEEDED)
    )
    refund = Refund(order=order, payment=payment, amount=amount, currency=order.currency,
                    reason=reason)
    db.session.add(refund)
    db.session.commit()

    try:
        outcome = get_provider().refund(payment.provider_payment_ref,
                                        Money(amount, order.currency), refund.idempotency_key)
    except PaymentError as exc:
        # Unreachable provider: the refund may have happened, so the amount stays
        # reserved (pending) rather than free to be refunded a second time.
        if exc.code != "provider_unavailable":
            refund.status = "failed"
            db.session.commit()
        raise
    refund.provider_refund_ref = outcome.reference
    if outcome.completed:
        complete_refund(refund)
    db.session.commit()
    return refund


def complete_refund(refund: Refund) -> None:
    """Mark ``refund`` succeeded, move its order and tell the seller. The caller commits."""
    order = refund.order
    refund.status = "succeeded"
    db.session.flush()
    action = OrderAction.REFUND_REST if refundable_amount(order) == 0 else OrderAction.REFUND_PART
    apply_order_action(order, action)
    record_event(order.seller, "refund.completed",
                 {"refund": refund_payload(refund), "order": order_payload(order)})
