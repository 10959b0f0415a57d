"""What an order's payments and refunds add up to. Pure sums over rows: no writes.

A refund counts against what can still be refunded from the moment it is reserved
(pending) until it fails; only succeeded refunds count as refunded.
"""

from __future__ import annotations

from ..models import Order, Payment, Refund
from .states import PaymentStatus, RefundKind, RefundStatus


def _holds(refund: Refund) -> bool:
    return refund.status != RefundStatus.FAILED


def refundable_from(payment: Payment, refunds: list[Refund]) -> int:
    """What can still be refunded from ``payment``: what it took, less every refund of it
    not failed (``refunds`` are its order's)."""
    if payment.status != PaymentStatus.SUCCEEDED:
        return 0
    return payment.amount - sum(r.amount for r in refunds
                                if r.payment_id == payment.id and _holds(r))


def refundable_amount(order: Order) -> int:
    """What the seller can still refund of ``order``: what it cost, as far as it was paid,
    less every refund of it not failed. A charge it did not need (a second card charged
    for one order) is not the seller's to refund: it goes back as an overpayment."""
    paid = sum(p.amount for p in order.payments if p.status == PaymentStatus.SUCCEEDED)
    overpaid = sum(r.amount for r in order.refunds
                   if r.kind == RefundKind.OVERPAYMENT and _holds(r))
    refunded = sum(r.amount for r in order.refunds
                   if r.kind == RefundKind.ORDER and _holds(r))
    return max(0, min(order.amount, paid - overpaid) - refunded)


def refunded_amount(order: Order) -> int:
    """What was given back of what ``order`` cost (succeeded refunds of the order)."""
    return sum(r.amount for r in order.refunds
               if r.kind == RefundKind.ORDER and r.status == RefundStatus.SUCCEEDED)
