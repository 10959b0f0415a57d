"""Reconciliation with the provider: what a crash, a lost answer or a missed webhook left
unfinished is finished, what the two sides disagree on is repaired through the status
writer, and what cannot be repaired is recorded for an operator.

One run (``reconcile``; the task queue runs it every few minutes, the CLI on demand):

1. Attempts left behind — open, nobody driving them (their lease over), older than a
   grace period — are read at the provider and recorded; once the buyer can no longer
   come back to them (the flow's token expired), or when their answer was lost before the
   provider named them, they are settled (``charges.settle_attempt``): looked up by our
   id, recorded, cancelled there while they wait for a card or the bank. Found nowhere,
   they never reached the provider and are cancelled here.
2. Refunds left pending the same way are read at the provider (looked up by our id when
   their answer was lost) and recorded. One that never reached it is released (failed,
   ``not_at_provider``: its amount can be refunded again) — unless it gives back an
   overpayment, which we owe: that one is executed.
3. The provider's charges and refunds of the last ``RECONCILE_WINDOW_HOURS`` are compared
   with ours: a charge that succeeded after we gave it up becomes a success (paying the
   order, or refunded as an overpayment); a refund made at the provider directly is
   recorded; anything naming a payment or refund we do not have is an issue.

Issues are ``ReconciliationIssue`` rows, one per disagreement however often seen, with a
log line; the run's counts are returned (and printed by the CLI).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..locks import locked
from ..models import Order, Payment, ReconciliationIssue, Refund, RefundPart
from ..models._base import insert_for, utcnow
from . import get_provider
from .base import PaymentError, RefundOutcome
from .service import apply_refund_action, record_charge_outcome, record_refund_outcome
from .states import (
    OPEN_PAYMENT_STATUSES,
    Action,
    Decision,
    RefundAction,
    RefundKind,
    RefundStatus,
)

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    """What one run did, by kind."""

    attempts_settled: int = 0
    refunds_settled: int = 0
    refunds_released: int = 0
    charges_repaired: int = 0
    refunds_recorded: int = 0
    issues: int = 0
    errors: int = 0  # rows the provider could not be asked about this time

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def reconcile(now=None, limit: int = 500) -> ReconcileReport:
    """Run the reconciliation the module docstring describes, at most ``limit`` rows per
    step. Commits as it goes (each repair its own transaction)."""
    now = now or utcnow()
    report = ReconcileReport()
    _settle_left_behind_attempts(now, limit, report)
    _settle_left_behind_refunds(now, limit, report)
    since = now - timedelta(hours=current_app.config["RECONCILE_WINDOW_HOURS"])
    _compare_charges(since, report)
    _compare_refunds(since, report)
    counts = ", ".join(f"{name} {count}" for name, count in report.as_dict().items())
    log.info("reconciliation: %s", counts)
    return report


def reconcile_task() -> dict[str, int]:
    """The task queue's entry: one run, its counts as the task's result."""
    return reconcile().as_dict()


def _left_behind(model, now):
    """Rows of ``model`` nobody drives: no provider call may be in flight about them, and
    they are older than the grace period (a request may still be about to drive them)."""
    grace = now - timedelta(seconds=current_app.config["RECONCILE_GRACE_SECONDS"])
    return (model.updated_at < grace) & (
        model.provider_call_until.is_(None) | (model.provider_call_until < now))


def _settle_left_behind_attempts(now, limit, report) -> None:
    from .charges import ChargeInProgress, settle_attempt

    abandoned = now - timedelta(seconds=current_app.config["FLOW_TOKEN_MAX_AGE"])
    payments = db.session.scalars(
        db.select(Payment).where(Payment.status.in_(OPEN_PAYMENT_STATUSES),
                                 _left_behind(Payment, now))
        .order_by(Payment.id).limit(limit)
    ).all()
    for payment in payments:
        try:
            if payment.provider_payment_ref and payment.created_at > abandoned:
                # The buyer may still be on the flow's page (entering the card, at their
                # bank's page): read, never cancel.
                outcome = get_provider().charge_status(payment.provider_payment_ref)
                record_charge_outcome(payment, outcome)
                db.session.commit()
            else:
                settle_attempt(payment)
            report.attempts_settled += 1
        except ChargeInProgress:
            db.session.rollback()
        except PaymentError:
            db.session.rollback()
            report.errors += 1


def _settle_left_behind_refunds(now, limit, report) -> None:
    from .refunds import _local, execute_part, give_back_locally

    parts = db.session.scalars(
        db.select(RefundPart).where(RefundPart.status == RefundStatus.PENDING,
                                    _left_behind(RefundPart, now))
        .order_by(RefundPart.id).limit(limit)
    ).all()
    provider = get_provider()
    for part in parts:
        try:
            if _local(part):  # reserved, then its process was gone: give it back now
                give_back_locally(part.refund_id)
                report.refunds_settled += 1
                continue
            if part.provider_refund_ref:
                outcome = provider.refund_status(part.provider_refund_ref)
            else:
                outcome = provider.find_refund(part.payment.provider_payment_ref,
                                               part.public_id)
            if outcome is not None:
                decision = record_refund_outcome(part, outcome)
                # The call whose lease ran out is over: its answer is recorded now.
                locked(RefundPart, part.id).provider_call_until = None
                db.session.commit()
                if decision is not None and decision.changes:
                    report.refunds_settled += 1
            elif part.refund.kind == RefundKind.OVERPAYMENT:
                execute_part(part)  # we owe it: made now, under its own key
                report.refunds_settled += 1
            else:
                _release(part)
                report.refunds_released += 1
        except PaymentError:
            db.session.rollback()
            report.errors += 1


def _release(part: RefundPart) -> None:
    from .refunds import in_flight

    locked(Order, part.refund.order_id)
    part = locked(RefundPart, part.id)
    if part.status == RefundStatus.PENDING and not in_flight(part):
        apply_refund_action(part, RefundAction.FAIL, failure_code="not_at_provider",
                            detail={"reason": "the provider has no such refund"})
    db.session.commit()


def _compare_charges(since, report) -> None:
    try:
        records = list(get_provider().list_charges(since))
    except PaymentError:
        report.errors += 1
        return
    for record in records:
        if record.payment_public_id is None:
            continue  # not made by Buyflow
        payment = db.session.scalar(
            db.select(Payment).filter_by(public_id=record.payment_public_id))
        ref = record.outcome.payment_ref
        if payment is None:
            report.issues += record_issue("unknown_charge", ref,
                                          payment=record.payment_public_id,
                                          status=str(record.outcome.action))
            db.session.commit()
            continue
        if payment.provider_payment_ref not in (None, ref):
            report.issues += record_issue("second_charge_for_payment", ref,
                                          payment=payment.public_id)
            db.session.commit()
            continue
        outcome = record.outcome
        if outcome.action == Action.REQUIRE_ACTION and payment.status not in OPEN_PAYMENT_STATUSES:
            # Given up here (its answer lost, found nowhere then) yet waiting for the
            # buyer there: it must not succeed later.
            try:
                outcome = get_provider().cancel_charge(ref)
            except PaymentError:
                report.errors += 1
                continue
        if (record.amount.amount, record.amount.currency) != (payment.amount,
                                                              payment.currency):
            report.issues += record_issue("charge_amount_differs", ref,
                                          payment=payment.public_id,
                                          provider=record.amount.amount, ours=payment.amount)
        before = payment.status
        decision = record_charge_outcome(payment, outcome)
        db.session.commit()
        if decision is not None and decision.changes:
            log.warning("reconciliation: payment %s was %s here, %s at the provider",
                        payment.public_id, before, decision.to_status)
            report.charges_repaired += 1
        elif decision is not None and decision.kind == "invalid":
            report.issues += record_issue("charge_status_differs", ref,
                                          payment=payment.public_id, ours=payment.status,
                                          provider=str(outcome.action))
            db.session.commit()


def _compare_refunds(since, report) -> None:
    try:
        outcomes = list(get_provider().list_refunds(since))
    except PaymentError:
        report.errors += 1
        return
    for outcome in outcomes:
        known = _our_part(outcome) is not None
        decision = apply_provider_refund(outcome, report=report)
        db.session.commit()  # what it recorded, issues included
        if decision is not None and decision.changes:
            if known:
                report.refunds_settled += 1
            else:
                report.refunds_recorded += 1


def _our_part(outcome: RefundOutcome) -> RefundPart | None:
    if outcome.refund_public_id:
        part = db.session.scalar(db.select(RefundPart).filter_by(
            public_id=outcome.refund_public_id))
        if part is not None:
            return part
    return db.session.scalar(db.select(RefundPart).filter_by(
        provider_refund_ref=outcome.reference))


def apply_provider_refund(outcome: RefundOutcome, *, provider_event_id: str | None = None,
                          report: ReconcileReport | None = None) -> Decision | None:
    """Record a refund as the provider reports it: ours through the status writer; one
    made at the provider directly, on one of our payments, as a new refund of its order
    (it moved money, whatever we would have allowed). Flushes; the caller commits."""
    part = _our_part(outcome)
    if part is not None:
        return record_refund_outcome(part, outcome, provider_event_id=provider_event_id)
    payment = outcome.payment_ref and db.session.scalar(
        db.select(Payment).filter_by(provider_payment_ref=outcome.payment_ref))
    if not payment:
        if outcome.refund_public_id:
            count = record_issue("unknown_refund", outcome.reference,
                                 refund=outcome.refund_public_id)
            if report is not None:
                report.issues += count
        return None
    if outcome.action != RefundAction.SUCCEED:
        return None  # refused or still processing at the provider: nothing moved yet
    from .balance import refundable_from

    order = payment.order
    if outcome.amount > refundable_from(payment, [p for r in order.refunds for p in r.parts]):
        count = record_issue("refund_above_payment", outcome.reference,
                             payment=payment.public_id, amount=outcome.amount)
        if report is not None:
            report.issues += count
    log.warning("refund %s of payment %s was made at the provider directly",
                outcome.reference, payment.public_id)
    refund = Refund(order=order, amount=outcome.amount, currency=payment.currency,
                    kind=RefundKind.ORDER, reason="Refunded at the payment provider.")
    part = RefundPart(payment=payment, amount=outcome.amount,
                      provider_refund_ref=outcome.reference)
    refund.parts.append(part)
    db.session.add(refund)
    db.session.flush()
    return record_refund_outcome(part, outcome, provider_event_id=provider_event_id)


def record_issue(kind: str, subject: str, **detail) -> int:
    """Record a disagreement an operator must look at, once per ``kind`` and ``subject``
    (a repeat only updates when it was last seen); 1 when it is new, else 0. Flushes;
    the caller commits."""
    now = utcnow()
    existing = db.session.scalar(db.select(ReconciliationIssue.id).filter_by(
        kind=kind, subject=subject))
    db.session.execute(
        insert_for(db.session, ReconciliationIssue)
        .values(kind=kind, subject=subject, detail=detail, first_seen_at=now,
                last_seen_at=now)
        .on_conflict_do_update(index_elements=["kind", "subject"],
                               set_={"last_seen_at": now, "detail": detail})
    )
    if existing is None:
        log.error("reconciliation issue %s about %s: %s", kind, subject, detail)
        return 1
    return 0
