"""The one writer of payment, refund and order status. It announces; it does not call.

Every status change goes through ``apply_payment_action`` or ``apply_refund_action``:
each locks the order (``locks.locked``: the row on PostgreSQL, the database's write lock
on SQLite), then the row, asks its transition table, appends an event row and moves the
order, then announces what happened (``events.announce``: sellers' webhooks, the receipt
email, credit packs... subscribe, in the same transaction). A provider event id is
recorded with the change it caused, so a replayed webhook is recognised and changes
nothing. What a provider said is recorded through ``record_charge_outcome`` and
``record_refund_outcome`` only. Functions flush; callers commit.

The order balance: an order is paid once its succeeded payments cover its total. Credit
reserved for it (``authorized``) is taken when the other payments cover the rest, and
given back when it is cancelled: the writer asks the payment's source to move the
ledger (``HoldingSource``), as part of the transition. A payment that succeeds for an
order paid already, or beyond its total (a second card charged for one order, which the
pay steps exist to prevent), is money to give back: a refund of kind ``overpayment`` is
reserved in the same transaction and executed once it commits.
"""

from __future__ import annotations

import logging

from ..events import announce
from ..extensions import db
from ..locks import locked
from ..models import Order, Payment, PaymentEvent, Refund, RefundEvent, RefundPart
from ..models._base import utcnow
from .balance import amount_held, amount_paid, refundable_amount
from .base import ChargeOutcome, HoldingSource, RefundOutcome
from .states import (
    OPEN_PAYMENT_STATUSES,
    Action,
    Decision,
    OrderAction,
    OrderStatus,
    PaymentStatus,
    RefundAction,
    RefundDestination,
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
    locked(Order, payment.order_id)
    payment = locked(Payment, payment.id)
    if outcome.card is not None and not payment.provider_method_ref:
        # Entered in the buyer's browser: known once the provider confirmed it.
        card = outcome.card
        payment.provider_method_ref = card.method_ref
        payment.card_brand, payment.card_last4 = card.card.brand, card.card.last4
        payment.card_exp_month, payment.card_exp_year = card.card.exp_month, card.card.exp_year
    if outcome.action is None:
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
    """Apply ``action`` to ``payment`` as the transition table decides, move its order,
    announce it, and say what happened. Valid changes are flushed with their event row;
    ignored and invalid actions write nothing but the provider reference (invalid ones
    are logged as errors)."""
    order, payment, decision = _locked_decision(Payment, PaymentEvent, decide_payment, payment,
                                                action, provider_event_id)
    if payment_ref and not payment.provider_payment_ref:
        payment.provider_payment_ref = payment_ref
    if not decision.changes:
        return decision
    _transition(payment, action, decision, provider_event_id=provider_event_id,
                failure_code=failure_code, detail=detail)
    if decision.to_status == PaymentStatus.SUCCEEDED:
        announce("payment.succeeded", order=order, payment=payment)
        if order.status == OrderStatus.PENDING:
            _settle_order(order)
        else:
            _give_back_overpayment(order, payment, payment.amount)
    elif decision.to_status == PaymentStatus.AUTHORIZED and order.status == OrderStatus.PENDING:
        _settle_order(order)  # a reservation covering all that is left is taken at once
    elif decision.to_status == PaymentStatus.FAILED:
        announce("payment.failed", order=order, payment=payment)
    db.session.flush()
    return decision


def _transition(payment: Payment, action: Action, decision: Decision, *,
                provider_event_id: str | None = None, failure_code: str | None = None,
                detail: dict | None = None) -> None:
    """Write ``decision`` on ``payment`` with its event row; a reservation taken or given
    back moves its source's ledger too."""
    from_status = payment.status
    if from_status == PaymentStatus.AUTHORIZED:
        source = _source(payment)
        if decision.to_status == PaymentStatus.SUCCEEDED:
            source.capture(payment)
        elif decision.to_status == PaymentStatus.CANCELED:
            source.release(payment)
    payment.status = decision.to_status
    if action == Action.FAIL:
        payment.failure_code = failure_code or "processing_error"
    elif action == Action.CANCEL and failure_code:
        payment.failure_code = failure_code
    db.session.add(PaymentEvent(
        payment=payment, action=str(action), from_status=from_status,
        to_status=decision.to_status, provider_event_id=provider_event_id,
        detail=detail or {},
    ))
    db.session.flush()


def _source(payment: Payment) -> HoldingSource:
    from . import source

    return source(payment.provider)


def _settle_order(order: Order) -> None:
    """Pay ``order`` once what succeeded covers it; take the reservations (credit) once
    they cover the rest. Anything paid beyond the total goes back as an overpayment."""
    paid = amount_paid(order)
    if paid < order.amount and paid + amount_held(order) >= order.amount:
        for held in [p for p in order.payments if p.status == PaymentStatus.AUTHORIZED]:
            _transition(held, Action.SUCCEED, decide_payment(held.status, Action.SUCCEED),
                        detail={"reason": "the rest of the order was paid"})
            announce("payment.succeeded", order=order, payment=held)
        paid = amount_paid(order)
    if paid >= order.amount:
        apply_order_action(order, OrderAction.PAY)
        if paid > order.amount:
            last = max((p for p in order.payments if p.status == PaymentStatus.SUCCEEDED),
                       key=lambda p: p.id)
            _give_back_overpayment(order, last, min(last.amount, paid - order.amount))


def _give_back_overpayment(order: Order, payment: Payment, amount: int) -> None:
    """``amount`` of ``payment`` was not needed by ``order`` (paid already, or paid
    beyond its total): reserve its refund now and have it executed once this transaction
    commits (reconciliation finishes it if that is lost)."""
    log.error("order %s: payment %s took %s more than the order needed (order %s); "
              "refunding it", order.public_id, payment.public_id, amount, order.status)
    refund = Refund(order=order, amount=amount, currency=payment.currency,
                    kind=RefundKind.OVERPAYMENT,
                    reason="Charged more than the order costs: refunded automatically.")
    refund.parts.append(RefundPart(payment=payment, amount=amount,
                                   destination=RefundDestination.SOURCE))
    db.session.add(refund)
    db.session.flush()
    from ..tasks import enqueue_after_commit

    enqueue_after_commit(db.session(), _enqueue_refunds, [refund.id])


def _enqueue_settling(order_ids) -> None:
    from ..tasks import get_tasks

    for order_id in order_ids:
        get_tasks().enqueue("settle_attempts", order_id)


def _enqueue_refunds(refund_ids) -> None:
    from ..tasks import get_tasks

    for refund_id in refund_ids:
        get_tasks().enqueue("execute_refund", refund_id)


def apply_order_action(order: Order, action: OrderAction) -> Decision:
    """Move ``order`` as the order transition table decides (locking its row), and
    announce it when it is paid or expires."""
    order = locked(Order, order.id)
    decision = decide_order(order.status, action)
    if decision.kind == "invalid":
        log.error("order %s: invalid action %s from status %s", order.public_id, action,
                  order.status)
    elif decision.changes:
        order.status = decision.to_status
        if action == OrderAction.PAY:
            order.paid_at = utcnow()
            announce("order.paid", order=order)
            if any(p.status in OPEN_PAYMENT_STATUSES for p in order.payments):
                # Paid another way (credit, offline): a card attempt still waiting for the
                # buyer is cancelled at the provider once this commits.
                from ..tasks import enqueue_after_commit

                enqueue_after_commit(db.session(), _enqueue_settling, [order.id])
        elif action == OrderAction.EXPIRE:
            order.expired_at = utcnow()
            announce("order.expired", order=order)
    return decision


def record_refund_outcome(part: RefundPart, outcome: RefundOutcome, *,
                          provider_event_id: str | None = None) -> Decision | None:
    """Record where the provider says refund ``part`` stands: its reference, and the
    action its status means (None while the provider still processes it)."""
    if outcome.action is None:
        locked(Order, part.refund.order_id)
        part = locked(RefundPart, part.id)
        if not part.provider_refund_ref:
            part.provider_refund_ref = outcome.reference
        return None
    return apply_refund_action(part, outcome.action, refund_ref=outcome.reference,
                               failure_code=outcome.failure_code,
                               provider_event_id=provider_event_id)


def apply_refund_action(
    part: RefundPart,
    action: RefundAction,
    *,
    provider_event_id: str | None = None,
    failure_code: str | None = None,
    refund_ref: str | None = None,
    detail: dict | None = None,
) -> Decision:
    """Apply ``action`` to refund ``part`` as the refund transition table decides, then
    sum its refund up: once no part is pending, the refund has succeeded (all parts did),
    partially succeeded, or failed — announced, and a refund of the order moves it. A
    failure gives the part's amount back to what can be refunded. Flushes; the caller
    commits."""
    order, part, decision = _locked_decision(RefundPart, RefundEvent, decide_refund, part,
                                             action, provider_event_id,
                                             order_id=part.refund.order_id)
    if refund_ref and not part.provider_refund_ref:
        part.provider_refund_ref = refund_ref
    if not decision.changes:
        return decision
    from_status = part.status
    part.status = decision.to_status
    if action == RefundAction.FAIL:
        part.failure_code = failure_code or "refund_failed"
    db.session.add(RefundEvent(
        part=part, action=str(action), from_status=from_status,
        to_status=decision.to_status, provider_event_id=provider_event_id,
        detail=detail or {},
    ))
    db.session.flush()
    _sum_up(order, part.refund)
    db.session.flush()
    return decision


def _sum_up(order: Order, refund: Refund) -> None:
    statuses = {p.status for p in refund.parts}
    if RefundStatus.PENDING in statuses or refund.status != RefundStatus.PENDING:
        return
    if statuses == {RefundStatus.SUCCEEDED}:
        refund.status = RefundStatus.SUCCEEDED
    elif statuses == {RefundStatus.FAILED}:
        refund.status = RefundStatus.FAILED
    else:
        refund.status = RefundStatus.PARTIALLY_SUCCEEDED
    if refund.status == RefundStatus.FAILED:
        announce("refund.failed", order=order, refund=refund)
        return
    if refund.kind == RefundKind.ORDER:
        rest = refundable_amount(order) == 0 and not _pending_order_refunds(order)
        apply_order_action(order, OrderAction.REFUND_REST if rest else OrderAction.REFUND_PART)
    announce("refund.succeeded", order=order, refund=refund)


def _pending_order_refunds(order: Order) -> bool:
    return any(r.kind == RefundKind.ORDER and r.status == RefundStatus.PENDING
               for r in order.refunds)


def _locked_decision(model, event_model, decide, row, action, provider_event_id,
                     order_id: int | None = None):
    """Lock ``row``'s order, then ``row`` (read afresh), and decide what ``action`` does to
    it: ignored when ``provider_event_id`` was applied already; invalid ones logged as
    errors. Returns the order, the row and the decision."""
    order = locked(Order, order_id if order_id is not None else row.order_id)
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
