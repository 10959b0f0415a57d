"""Refunding a paid order, in full or in part, never more than was paid, exactly once.

A refund is spread over the payments that paid the order (``spread``): provider
payments first (the card: money back where it came from), newest first, then offline
payments, then credit, each giving back at most what it took less what it gave back
already. Each share is a refund part. Its destination is the payment's source, or credit
with the seller when the buyer chose it (``RefundDestination.CREDIT``, for every part).

A refund is a money path of atomic phases, each its own transaction under the order's
lock (``locks.locked``), with the provider called between them:

1. ``reserve_refund``: check what can still be refunded and reserve it with a pending
   refund and its parts (the caller commits it: the recovery point, with whatever else
   must remember it, such as the seller's idempotency key).
2. ``execute_refund``: the parts given back without calling anyone (credit, offline,
   anything refunded as credit) in one transaction; then for each provider part: claim
   the provider call (``provider_call_until``, a lease), commit, call the provider with
   the idempotency key derived from the part's row, record its answer through the
   status writer and release the claim.

``execute_refund`` may be called again at any time, by anyone (the seller's retry, the
overpayment task, reconciliation): a finished part is left alone, a claimed one is left
to its claimant until the lease ends, and a repeated provider call carries the same key,
so the provider refunds once. A provider that could not be reached leaves its part
pending, its amount still reserved: never free to be refunded a second time.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from ..errors import CodedError
from ..extensions import db
from ..locks import locked
from ..models import Order, Payment, Refund, RefundPart
from ..models._base import utcnow
from ..money import Money
from . import get_provider, source
from .balance import refundable_amount, refundable_from
from .base import REFUND_METADATA_KEY, LocalRefunds, PaymentError
from .service import apply_refund_action, record_refund_outcome
from .states import (
    REFUNDABLE_ORDER_STATUSES,
    PaymentSource,
    RefundAction,
    RefundDestination,
    RefundKind,
    RefundStatus,
)


class RefundRefused(CodedError):
    """order_not_paid (409), amount_exceeds_refundable (422)."""


def lease_end():
    """Until when a provider call started now may still be in flight: the longest call
    the provider client can make, with its retries, fits in ``MONEY_CALL_LEASE_SECONDS``."""
    return utcnow() + timedelta(seconds=current_app.config["MONEY_CALL_LEASE_SECONDS"])


def in_flight(row) -> bool:
    """Whether a provider call about ``row`` (a payment or a refund part) may be under way."""
    return row.provider_call_until is not None and row.provider_call_until > utcnow()


def _local(part: RefundPart) -> bool:
    """Whether ``part`` is given back without calling a provider."""
    return (part.destination == RefundDestination.CREDIT
            or part.payment.provider in (PaymentSource.CREDIT, PaymentSource.OFFLINE))


def _spread_order(payment: Payment) -> tuple[int, int]:
    rank = {PaymentSource.OFFLINE: 1, PaymentSource.CREDIT: 2}.get(payment.provider, 0)
    return rank, -payment.id


def spread(order: Order, amount: int) -> list[tuple[Payment, int]]:
    """How ``amount`` is given back over ``order``'s payments (the module docstring's
    rule); what cannot be covered is left out (the caller checks the total)."""
    parts = [part for refund in order.refunds for part in refund.parts]
    shares = []
    for payment in sorted(order.payments, key=_spread_order):
        share = min(amount, refundable_from(payment, parts))
        if share > 0:
            shares.append((payment, share))
            amount -= share
    return shares


def reserve_refund(order: Order, amount: int | None, reason: str = "",
                   destination: str = RefundDestination.SOURCE) -> Refund:
    """Phase 1: reserve ``amount`` of ``order`` (all that is left when None) with a
    pending refund, spread over the payments that paid. Flushes; the caller commits.
    RefundRefused when the order cannot be refunded so."""
    order = locked(Order, order.id)
    if order.status not in REFUNDABLE_ORDER_STATUSES:
        raise RefundRefused("order_not_paid", "Only a paid order can be refunded.", 409)
    left = refundable_amount(order)
    amount = left if amount is None else amount
    if amount > left or amount <= 0:
        raise RefundRefused("amount_exceeds_refundable",
                            f"At most {left} can still be refunded on this order.", 422)
    shares = spread(order, amount)
    if sum(share for _, share in shares) != amount:  # paid by a source that cannot refund
        raise RefundRefused("amount_exceeds_refundable",
                            "This amount cannot be refunded from the order's payments.", 422)
    refund = Refund(order=order, amount=amount, currency=order.currency, reason=reason,
                    kind=RefundKind.ORDER, destination=destination)
    for payment, share in shares:
        refund.parts.append(RefundPart(payment=payment, amount=share, destination=destination))
    db.session.add(refund)
    db.session.flush()
    return refund


def create_refund(order: Order, amount: int | None, reason: str = "",
                  destination: str = RefundDestination.SOURCE) -> Refund:
    """Reserve and execute a refund of ``order`` (see the module docstring). Commits.
    RefundRefused, or PaymentError as ``execute_refund`` raises it."""
    refund = reserve_refund(order, amount, reason, destination)
    db.session.commit()
    return execute_refund(refund)


def execute_refund(refund: Refund) -> Refund:
    """Phase 2: give back every pending part of ``refund`` (see the module docstring).
    Commits. Returns the refund as it stands; PaymentError when a provider refused its
    part ("refund_failed", recorded as failed) or its answer is unknown
    ("provider_unavailable", left pending for a retry or reconciliation)."""
    refund_id = refund.id
    give_back_locally(refund_id)
    failure = None
    for part_id in db.session.scalars(db.select(RefundPart.id).filter_by(
            refund_id=refund_id, status=RefundStatus.PENDING).order_by(RefundPart.id)):
        try:
            execute_part(db.session.get(RefundPart, part_id))
        except PaymentError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
    refund = db.session.get(Refund, refund_id)
    db.session.refresh(refund)
    return refund


def give_back_locally(refund_id: int) -> None:
    """The refund's pending parts that need no provider — credit, offline, anything
    refunded as credit — given back now, in one transaction. Commits."""
    refund = db.session.get(Refund, refund_id)
    locked(Order, refund.order_id)
    for part in db.session.scalars(db.select(RefundPart).filter_by(
            refund_id=refund_id, status=RefundStatus.PENDING).order_by(RefundPart.id)):
        if _local(part):
            name = (PaymentSource.CREDIT if part.destination == RefundDestination.CREDIT
                    else part.payment.provider)
            local: LocalRefunds = source(name)
            detail = local.give_back(part)
            apply_refund_action(part, RefundAction.SUCCEED, detail=detail)
    db.session.commit()


def execute_refund_task(refund_id: int) -> str:
    """The task queue's entry: execute refund ``refund_id`` (an overpayment given back),
    and return its status. An unreachable provider leaves it to reconciliation."""
    refund = db.session.get(Refund, refund_id)
    try:
        return execute_refund(refund).status
    except PaymentError:
        return RefundStatus.PENDING


def execute_part(part: RefundPart) -> RefundPart:
    """Drive one provider part to the provider and record its answer (phase 2's provider
    half). Commits; PaymentError as ``execute_refund`` says."""
    part_id = part.id
    claimed = _claim_call(part_id)
    if claimed is None:
        return db.session.get(RefundPart, part_id)
    try:
        outcome = _ask_provider(claimed)
    except PaymentError as exc:
        part = _relocked(part_id)
        part.provider_call_until = None
        if exc.code == "refund_failed":  # refused: the provider did not act
            apply_refund_action(part, RefundAction.FAIL, failure_code="refund_failed",
                                detail={"provider": exc.detail[:300]})
        db.session.commit()
        raise
    part = _relocked(part_id)
    part.provider_call_until = None
    record_refund_outcome(part, outcome)
    db.session.commit()
    return part


def _relocked(part_id: int) -> RefundPart:
    locked(Order, db.session.get(RefundPart, part_id).refund.order_id)
    return locked(RefundPart, part_id)


def _claim_call(part_id: int) -> RefundPart | None:
    """Take the lease on ``part_id``'s provider call and commit it (the recovery point),
    or None when the part is final or another call holds the lease."""
    part = _relocked(part_id)
    if part.status != RefundStatus.PENDING or in_flight(part):
        db.session.commit()
        return None
    part.provider_call_until = lease_end()
    db.session.commit()
    return part


def _ask_provider(part: RefundPart):
    """The provider's answer about ``part``: its status when the provider took it
    already, else the refund itself, under the part's own idempotency key."""
    provider = get_provider()
    if part.provider_refund_ref:  # accepted earlier and still processed there
        return provider.refund_status(part.provider_refund_ref)
    payment = db.session.get(Payment, part.payment_id)
    return provider.refund(payment.provider_payment_ref, Money(part.amount, payment.currency),
                           part.idempotency_key, {REFUND_METADATA_KEY: part.public_id})
