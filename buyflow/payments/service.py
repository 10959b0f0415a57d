"""The one writer of payment, refund and order status.

Every status change goes through ``apply_payment_action`` or ``apply_refund_action``:
each locks the order (``locks.locked``: the row on PostgreSQL, the database's write lock
on SQLite), then the row, asks its transition table, appends an event row and moves the
order. The sellers' webhooks about a change are written in the same transaction (the
outbox), and a paid order's receipt email is queued when it commits.
A provider event id is recorded with the change it caused, so a replayed webhook is
recognised and changes nothing. What a provider said is recorded through
``record_charge_outcome`` and ``record_refund_outcome`` only. Callers commit.

A payment that succeeds for an order already paid (a second card charged for one
order, which the pay steps exist to prevent) is money to give back: a refund of kind
``overpayment`` is reserved in the same transaction and executed once it commits.
"""

from __future__ import annotations

import logging

from ..extensions import db
from ..locks import locked
from ..models import Order, Payment, PaymentEvent, Refund, RefundEvent
from ..models._base import utcnow
from ..receipts.mail import send_receipt_after_commit
from ..sellers.payloads import order_payload, refund_payload
from ..sellers.webhooks import record_event
from .balance import refundable_amount
from .base import ChargeOutcome, RefundOutcome
from .states import (
    Action,
    Decision,
    OrderAction,
    OrderStatus,
    PaymentStatus,
    RefundAction,
    RefundKind,
    RefundStatus,
    decide_order,
    decide_payment,
    decide_refund,
)

log = logging.getLogger(__name__)


def record_charge_outcome(payment: Payment, outcome: ChargeOutcome, *,
                          provider_event_id: str | None = None) -> Decision | None:
    """Record where the provider says ``payment``'s charge stands: its reference, and the
    action its status means (None while the provider still processes it)."""
    if outcome.action is None:
        locked(Order, payment.order_id)
        payment = locked(Payment, payment.id)
        if outcome.payment_ref and not payment.provider_payment_ref:
            payment.provider_payment_ref = outcome.payment_ref
        return None
    return apply_payment_action(payment, outcome.action, payment_ref=outcome.payment_ref,
                                failure_code=outcome.failure_code,
                                provider_event_id=provider_event_id)


def apply_payment_action(
    payment: Payment,
    action: Action,
    *,
    provider_event_id: str | None = None,
    failure_code: str | None = None,
    payment_ref: str | None = None,
    detail: dict | None = None,
) -> Decision:
    """Apply ``action`` to ``payment`` as the transition table decides, and say what
    happened. Valid changes are flushed with their event row; ignored and invalid actions
    write nothing but the provider reference (invalid ones are logged as errors)."""
    order, payment, decision = _locked_decision(Payment, PaymentEvent, decide_payment, payment,
                                                action, provider_event_id)
    if payment_ref and not payment.provider_payment_ref:
        payment.provider_payment_ref = payment_ref
    if not decision.changes:
        return decision

    from_status = payment.status
    payment.status = decision.to_status
    if action == Action.FAIL:
        payment.failure_code = failure_code or "processing_error"
    elif action == Action.CANCEL and failure_code:
        payment.failure_code = failure_code
    db.session.add(PaymentEvent(
        payment=payment,
        action=str(action),
        from_status=from_status,
        to_status=decision.to_status,
        provider_event_id=provider_event_id,
        detail=detail or {},
    ))
    if decision.to_status == PaymentStatus.SUCCEEDED:
        if order.status == OrderStatus.PENDING:
            apply_order_action(order, OrderAction.PAY)
        else:
            _give_back_overpayment(order, payment)
    elif decision.to_status == PaymentStatus.FAILED:
        record_event(order.seller, "payment.failed", {
            "order": order_payload(order),
            "payment": {"id": payment.public_id, "amount": payment.amount,
                        "currency": payment.currency, "failure_code": payment.failure_code},
        })
    db.session.flush()
    return decision


def _locked_decision(model, event_model, decide, row, action, provider_event_id):
    """Lock ``row``'s order, then ``row`` (read afresh), and decide what ``action`` does to
    it: ignored when ``provider_event_id`` was applied already; invalid ones logged as
    errors. Returns the order, the row and the decision."""
    order = locked(Order, row.order_id)
    row = locked(model, row.id)
    if provider_event_id and db.session.scalar(
        db.select(event_model.id).filter_by(provider_event_id=provider_event_id)
    ):
        log.info("%s: provider event %s already applied", row.public_id, provider_event_id)
        return order, row, Decision("ignored", row.status)
    decision = decide(row.status, action)
    if decision.kind == "invalid":
        log.error("%s: invalid action %s from status %s", row.public_id, action, row.status)
    elif decision.kind == "ignored":
        log.info("%s: ignored %s in status %s", row.public_id, action, row.status)
    return order, row, decision


def _give_back_overpayment(order: Order, payment: Payment) -> None:
    """``payment`` succeeded though ``order`` was paid already: reserve its refund now and
    have it executed once this transaction commits (the reconciliation finishes it if
    that is lost)."""
    log.error("order %s: payment %s succeeded after the order was %s; refunding it",
              order.public_id, payment.public_id, order.status)
    refund = Refund(order=order, payment=payment, amount=payment.amount,
                    currency=payment.currency, kind=RefundKind.OVERPAYMENT,
                    reason="Charged twice for one order: refunded automatically.")
    db.session.add(refund)
    db.session.flush()
    from ..tasks import enqueue_after_commit

    enqueue_after_commit(db.session(), _enqueue_refunds, [refund.id])


def _enqueue_refunds(refund_ids) -> None:
    from ..tasks import get_tasks

    for refund_id in refund_ids:
        get_tasks().execute_refund(refund_id)


def apply_order_action(order: Order, action: OrderAction) -> Decision:
    """Move ``order`` as the order transition table decides (locking its row)."""
    order = locked(Order, order.id)
    decision = decide_order(order.status, action)
    if decision.kind == "invalid":
        log.error("order %s: invalid action %s from status %s", order.public_id, action,
                  order.status)
    elif decision.changes:
        order.status = decision.to_status
        if action == OrderAction.PAY:
            order.paid_at = utcnow()
            record_event(order.seller, "order.completed", {"order": order_payload(order)})
            send_receipt_after_commit(order)
    return decision


def record_refund_outcome(refund: Refund, outcome: RefundOutcome, *,
                          provider_event_id: str | None = None) -> Decision | None:
    """Record where the provider says ``refund`` stands: its reference, and the action its
    status means (None while the provider still processes it)."""
    if outcome.action is None:
        locked(Order, refund.order_id)
        refund = locked(Refund, refund.id)
        if not refund.provider_refund_ref:
            refund.provider_refund_ref = outcome.reference
        return None
    return apply_refund_action(refund, outcome.action, refund_ref=outcome.reference,
                               failure_code=outcome.failure_code,
                               provider_event_id=provider_event_id)


def apply_refund_action(
    refund: Refund,
    action: RefundAction,
    *,
    provider_event_id: str | None = None,
    failure_code: str | None = None,
    refund_ref: str | None = None,
    detail: dict | None = None,
) -> Decision:
    """Apply ``action`` to ``refund`` as the refund transition table decides: a success
    moves the order (a refund of the order) and tells the seller; a failure gives the
    reserved amount back to what can be refunded. Flushes; the caller commits."""
    order, refund, decision = _locked_decision(Refund, RefundEvent, decide_refund, refund,
                                               action, provider_event_id)
    if refund_ref and not refund.provider_refund_ref:
        refund.provider_refund_ref = refund_ref
    if not decision.changes:
        return decision

    from_status = refund.status
    refund.status = decision.to_status
    if action == RefundAction.FAIL:
        refund.failure_code = failure_code or "refund_failed"
    db.session.add(RefundEvent(
        refund=refund, action=str(action), from_status=from_status,
        to_status=decision.to_status, provider_event_id=provider_event_id,
        detail=detail or {},
    ))
    db.session.flush()
    if decision.to_status == RefundStatus.SUCCEEDED:
        if refund.kind == RefundKind.ORDER:
            rest = refundable_amount(order) == 0 and not _pending_order_refunds(order)
            apply_order_action(order, OrderAction.REFUND_REST if rest
                               else OrderAction.REFUND_PART)
        record_event(order.seller, "refund.completed",
                     {"refund": refund_payload(refund), "order": order_payload(order)})
    db.session.flush()
    return decision


def _pending_order_refunds(order: Order) -> bool:
    return any(r.kind == RefundKind.ORDER and r.status == RefundStatus.PENDING
               for r in order.refunds)
