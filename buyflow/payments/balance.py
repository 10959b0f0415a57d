"""What an order's payments and refunds add up to. Pure sums over rows: no writes.

Paid is what succeeded payments took; held is what authorized ones (credit reserved)
will take; an order is paid when paid reaches its total. A refund part counts against
what its payment can still give back from the moment it is reserved (pending) until it
fails; only succeeded parts count as refunded.
"""

from __future__ import annotations

from ..models import Order, Payment, RefundPart
from .states import PaymentStatus, RefundKind, RefundStatus


def amount_paid(order: Order) -> int:
    return sum(p.amount for p in order.payments if p.status == PaymentStatus.SUCCEEDED)


def amount_held(order: Order) -> int:
    return sum(p.amount for p in order.payments if p.status == PaymentStatus.AUTHORIZED)


def amount_due(order: Order) -> int:
    """What the order still waits for: its total less what was paid."""
    return max(0, order.amount - amount_paid(order))


def amount_to_charge(order: Order) -> int:
    """What a new payment is for: what is due, less what is reserved already."""
    return max(0, order.amount - amount_paid(order) - amount_held(order))


def _parts(order: Order, kind: str | None = None) -> list[RefundPart]:
    return [part for refund in order.refunds if kind is None or refund.kind == kind
            for part in refund.parts]


def refundable_from(payment: Payment, parts: list[RefundPart]) -> int:
    """What can still be given back of ``payment``: what it took, less every part of it
    not failed (``parts``: its order's)."""
    if payment.status != PaymentStatus.SUCCEEDED:
        return 0
    return payment.amount - sum(p.amount for p in parts
                                if p.payment_id == payment.id and p.status != RefundStatus.FAILED)


def refundable_amount(order: Order) -> int:
    """What the seller can still refund of ``order``: what it cost, as far as it was paid,
    less every refund of it not failed. A charge it did not need (a second card charged
    for one order) is not the seller's to refund: it goes back as an overpayment."""
    overpaid = sum(p.amount for p in _parts(order, RefundKind.OVERPAYMENT)
                   if p.status != RefundStatus.FAILED)
    refunded = sum(p.amount for p in _parts(order, RefundKind.ORDER)
                   if p.status != RefundStatus.FAILED)
    return max(0, min(order.amount, amount_paid(order) - overpaid) - refunded)


def refunded_amount(order: Order) -> int:
    """What was given back of what ``order`` cost (succeeded parts of its refunds)."""
    return sum(p.amount for p in _parts(order, RefundKind.ORDER)
               if p.status == RefundStatus.SUCCEEDED)
