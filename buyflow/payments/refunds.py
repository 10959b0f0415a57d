"""Refunding a paid order, in full or in part, never more than was paid, exactly once.

A refund is a money path of atomic phases, each its own transaction under the order's
lock (``locks.locked``), with the provider called between them:

1. ``reserve_refund``: check what can still be refunded and reserve the amount with a
   pending refund row (the caller commits it: the recovery point, with whatever else
   must remember it, such as the seller's idempotency key).
2. ``execute_refund``: claim the provider call (``provider_call_until``, a lease), commit,
   call the provider with the idempotency key derived from the refund's row, then
   record its answer through the status writer and release the claim.

``execute_refund`` may be called again at any time, by anyone (the seller's retry, the
overpayment task, reconciliation): a finished refund is left alone, a claimed one is
left to its claimant until the lease ends, and a repeated provider call carries the
same key, so the provider refunds once. A provider that could not be reached leaves the
refund pending, its amount still reserved: never free to be refunded a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..locks import locked
from ..models import Order, Payment, Refund
from ..models._base import utcnow
from ..money import Money
from . import get_provider
from .balance import refundable_amount, refundable_from
from .base import PaymentError
from .service import apply_refund_action, record_refund_outcome
from .states import OrderStatus, RefundAction, RefundKind, RefundStatus
from .stripe import REFUND_METADATA_KEY

_REFUNDABLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


@dataclass
class RefundRefused(Exception):
    code: str  # order_not_paid, amount_exceeds_refundable
    message: str


def lease_end():
    """Until when a provider call started now may still be in flight: the longest call
    the provider client can make, with its retries, fits in ``MONEY_CALL_LEASE_SECONDS``."""
    return utcnow() + timedelta(seconds=current_app.config["MONEY_CALL_LEASE_SECONDS"])


def in_flight(row) -> bool:
    """Whether a provider call about ``row`` (a payment or a refund) may be under way."""
    return row.provider_call_until is not None and row.provider_call_until > utcnow()


def reserve_refund(order: Order, amount: int | None, reason: str = "") -> Refund:
    """Phase 1: reserve ``amount`` of ``order`` (all that is left when None) with a
    pending refund of the payment that can give it back. Flushes; the caller commits.
    RefundRefused when the order cannot be refunded so."""
    order = locked(Order, order.id)
    if order.status not in _REFUNDABLE:
        raise RefundRefused("order_not_paid", "Only a paid order can be refunded.")
    left = refundable_amount(order)
    amount = left if amount is None else amount
    if amount > left or amount <= 0:
        raise RefundRefused("amount_exceeds_refundable",
                            f"At most {left} can still be refunded on this order.")
    refunds = list(order.refunds)
    payment = next((p for p in order.payments if refundable_from(p, refunds) >= amount), None)
    if payment is None:  # spread over several payments: not yet (one card per order)
        raise RefundRefused("amount_exceeds_refundable",
                            "This amount cannot be refunded from a single payment.")
    refund = Refund(order=order, payment=payment, amount=amount, currency=order.currency,
                    reason=reason, kind=RefundKind.ORDER)
    db.session.add(refund)
    db.session.flush()
    return refund


def create_refund(order: Order, amount: int | None, reason: str = "") -> Refund:
    """Reserve and execute a refund of ``order`` (see the module docstring). Commits.
    RefundRefused, or PaymentError as ``execute_refund`` raises it."""
    refund = reserve_refund(order, amount, reason)
    db.session.commit()
    return execute_refund(refund)


def execute_refund(refund: Refund) -> Refund:
    """Phase 2: drive ``refund`` to the provider and record the answer (see the module
    docstring). Commits. Returns the refund as it stands; PaymentError when the provider
    refused it ("refund_failed", recorded as failed) or its answer is unknown
    ("provider_unavailable", left pending for a retry or reconciliation)."""
    refund_id = refund.id
    claimed = _claim_call(refund_id)
    if claimed is None:
        return db.session.get(Refund, refund_id)
    try:
        outcome = _ask_provider(claimed)
    except PaymentError as exc:
        refund = locked(Refund, refund_id)
        refund.provider_call_until = None
        if exc.code == "refund_failed":  # refused: the provider did not act
            apply_refund_action(refund, RefundAction.FAIL, failure_code="refund_failed",
                                detail={"provider": exc.detail[:300]})
        db.session.commit()
        raise
    refund = locked(Refund, refund_id)
    refund.provider_call_until = None
    record_refund_outcome(refund, outcome)
    db.session.commit()
    return refund


def execute_refund_task(refund_id: int) -> str:
    """The task queue's entry: execute refund ``refund_id`` (an overpayment given back),
    and return its status. An unreachable provider leaves it to reconciliation."""
    refund = db.session.get(Refund, refund_id)
    try:
        return execute_refund(refund).status
    except PaymentError:
        return RefundStatus.PENDING


def _claim_call(refund_id: int) -> Refund | None:
    """Take the lease on ``refund_id``'s provider call and commit it (the recovery
    point), or None when the refund is final or another call holds the lease."""
    order_id = db.session.get(Refund, refund_id).order_id
    locked(Order, order_id)
    refund = locked(Refund, refund_id)
    if refund.status != RefundStatus.PENDING or in_flight(refund):
        db.session.commit()
        return None
    refund.provider_call_until = lease_end()
    db.session.commit()
    return refund


def _ask_provider(refund: Refund):
    """The provider's answer about ``refund``: its status when the provider took it
    already, else the refund itself, under the refund's own idempotency key."""
    provider = get_provider()
    if refund.provider_refund_ref:  # accepted earlier and still processed there
        return provider.refund_status(refund.provider_refund_ref)
    payment = db.session.get(Payment, refund.payment_id)
    return provider.refund(payment.provider_payment_ref, Money(refund.amount, refund.currency),
                           refund.idempotency_key, {REFUND_METADATA_KEY: refund.public_id})
