"""The one writer of payment and order status.

Every status change goes through ``apply_payment_action``: it locks the payment row, asks
the transition table, appends an event row and, when a payment succeeds, moves its order.
The sellers' webhooks about a change are written in the same transaction (the outbox),
and a paid order's receipt email is queued when it commits.
A provider event id is recorded with the change it caused, so a replayed webhook is
recognised and changes nothing. Callers commit.
"""

from __future__ import annotations

import logging

from ..extensions import db
from ..models import Order, Payment, PaymentEvent
from ..models._base import utcnow
from ..receipts.mail import send_receipt_after_commit
from ..sellers.payloads import order_payload
from ..sellers.webhooks import record_event
from .states import (
    Action,
    Decision,
    OrderAction,
    PaymentStatus,
    decide_order,
    decide_payment,
)

log = logging.getLogger(__name__)


def apply_payment_action(
    payment: Payment,
    action: Action,
    *,
    provider_event_id: str | None = None,
    failure_code: str | None = None,
    detail: dict | None = None,
) -> Decision:
    """Apply ``action`` to ``payment`` as the transition table decides, and say what
    happened. Valid changes are flushed with their event row; ignored and invalid actions
    write nothing (invalid ones are logged as errors)."""
    payment = db.session.get(Payment, payment.id, with_for_update=True, populate_existing=True)
    if provider_event_id and db.session.scalar(
        db.select(PaymentEvent.id).filter_by(provider_event_id=provider_event_id)
    ):
        log.info("payment %s: provider event %s already applied", payment.public_id,
                 provider_event_id)
        return Decision("ignored", payment.status)

    decision = decide_payment(payment.status, action)
    if decision.kind == "invalid":
        log.error("payment %s: invalid action %s from status %s", payment.public_id, action,
                  payment.status)
        return decision
    if decision.kind == "ignored":
        log.info("payment %s: ignored %s in status %s", payment.public_id, action,
                 payment.status)
        return decision

    from_status = payment.status
    payment.status = decision.to_status
    if action == Action.FAIL:
        payment.failure_code = failure_code or "processing_error"
    db.session.add(PaymentEvent(
        payment=payment,
        action=str(action),
        from_status=from_status,
        to_status=decision.to_status,
        provider_event_id=provider_event_id,
        detail=detail or {},
    ))
    if decision.to_status == PaymentStatus.SUCCEEDED:
        apply_order_action(payment.order, OrderAction.PAY)
    elif decision.to_status == PaymentStatus.FAILED:
        record_event(payment.order.seller, "payment.failed", {
            "order": order_payload(payment.order),
            "payment": {"id": payment.public_id, "amount": payment.amount,
                        "currency": payment.currency, "failure_code": payment.failure_code},
        })
    db.session.flush()
    return decision


def apply_order_action(order: Order, action: OrderAction) -> Decision:
    """Move ``order`` as the order transition table decides (locking its row)."""
    order = db.session.get(Order, order.id, with_for_update=True, populate_existing=True)
    decision = decide_order(order.status, action)
    if decision.kind == "invalid":
        # Two payments succeeding for one order: money to give back, not to hide.
        log.error("order %s: invalid action %s from status %s", order.public_id, action,
                  order.status)
    elif decision.changes:
        order.status = decision.to_status
        if action == OrderAction.PAY:
            order.paid_at = utcnow()
            record_event(order.seller, "order.completed", {"order": order_payload(order)})
            send_receipt_after_commit(order)
    return decision
