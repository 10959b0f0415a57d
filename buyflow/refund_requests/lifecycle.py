"""Refund requests: a buyer asks, the seller decides.

A request is ``open`` until it ends one way: ``refunded`` (a refund of its order
succeeded), ``declined`` (by the seller, with a reason mailed to the buyer) or
``withdrawn`` (by the buyer). An ended request stays as it is, for the order's history.
An order has at most one open request; the buyer may ask again once it ended, unless
the order was refunded in full.

Every change locks the order first (``locks.locked``), as the money paths do, so a
decline and a refund of the same order never cross. Each change, its audit entry and its
seller webhook are added to the caller's transaction (these functions flush; the view,
command or task commits). A refusal raises ``RefundRequestRefused`` with a stable code
before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..buyers.audit import record_change
from ..errors import CodedError
from ..buyers.identity import verified_emails
from ..extensions import db
from ..locks import locked
from ..models import Buyer, Order, Refund, RefundRequest, Seller
from ..models._base import utcnow
from ..models.audit import SYSTEM, Actor
from ..models.requests import RefundRequestStatus
from ..payments.states import OrderStatus, RefundDestination, RefundKind, RefundStatus
from ..sellers.payloads import order_payload
from ..sellers.webhooks import record_event
from ..tasks import enqueue_after_commit
from .mail import enqueue_decline_mails

REASON_MAX_LENGTH = 1000

# An order a buyer may ask to be refunded: paid, and not yet given back in full.
ASKABLE_ORDER_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)

# Every refusal: its code, what the API tells a seller (pages say it in the buyer's
# language) and the HTTP status the API answers it with.
REFUSALS = {
    "order_not_refundable": ("The order was not paid, so there is nothing to refund.", 409),
    "already_refunded": ("The order was already refunded in full.", 409),
    "request_already_open": ("The order already has an open refund request.", 409),
    "refund_request_not_open": ("The refund request is no longer open: it was declined or "
                                "withdrawn.", 409),
    "not_your_order": ("The order was not bought with one of the buyer's emails.", 403),
    "not_your_request": ("Only the buyer who asked can withdraw a refund request.", 403),
    "reason_required": ("A reason is required.", 400),
    "reason_too_long": (f"The reason must be at most {REASON_MAX_LENGTH} characters.", 400),
    "invalid_refund_to": ("'refund_to' must be 'source' or 'credit'.", 400),
    "invalid_status": ("'status' must be one of open, refunded, declined, withdrawn.", 400),
    "invalid_cursor": ("The cursor is not one of your refund requests.", 400),
    "invalid_limit": ("'limit' must be an integer from 1 to 100.", 400),
    "not_found": ("No such refund request.", 404),
}


class RefundRequestRefused(CodedError):
    """A refused change or query, before anything was written: ``code`` is one of
    ``REFUSALS``, with its English ``message`` and ``http_status``."""

    def __init__(self, code: str):
        message, status = REFUSALS[code]
        super().__init__(code, message, status)


def _checked_reason(reason: object) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise RefundRequestRefused("reason_required")
    if len(text) > REASON_MAX_LENGTH:
        raise RefundRequestRefused("reason_too_long")
    return text


def current_request(order: Order) -> RefundRequest | None:
    """The order's open request, if it has one."""
    return next((r for r in order.refund_requests if r.status == RefundRequestStatus.OPEN),
                None)


def refusal_to_ask(order: Order) -> str | None:
    """Why a buyer may not ask for a refund of ``order`` now (a code), or None."""
    if order.status == OrderStatus.REFUNDED:
        return "already_refunded"
    if order.status not in ASKABLE_ORDER_STATUSES:
        return "order_not_refundable"
    if current_request(order) is not None:
        return "request_already_open"
    return None


def refund_request_payload(request: RefundRequest) -> dict:
    """The request as sellers see it, in the API and in webhooks (times in ISO 8601 UTC)."""
    return {
        "id": request.public_id,
        "order": request.order.public_id,
        "status": request.status,
        "reason": request.reason,
        "refund_to": request.refund_to,
        "decline_reason": request.decline_reason,
        "refund": request.refund.public_id if request.refund else None,
        "created_at": request.created_at.isoformat(),
        "closed_at": request.closed_at.isoformat() if request.closed_at else None,
    }


def _tell_seller(event_type: str, request: RefundRequest) -> None:
    record_event(request.order.seller, event_type, {
        "refund_request": refund_request_payload(request),
        "order": order_payload(request.order),
    }, order=request.order)


def open_request(order: Order, buyer: Buyer, reason: str,
                 refund_to: str = RefundDestination.SOURCE) -> RefundRequest:
    """Record ``buyer``'s request for a refund of ``order`` (bought with one of their
    verified emails) because of ``reason``, the money wanted back ``refund_to`` its
    source or as credit; with its audit entry and the seller's ``refund.requested``
    webhook. Refused: ``reason_required``, ``reason_too_long``, ``invalid_refund_to``,
    ``not_your_order``, ``order_not_refundable``, ``already_refunded``,
    ``request_already_open``."""
    text = _checked_reason(reason)
    if not isinstance(refund_to, str) or refund_to not in set(RefundDestination):
        raise RefundRequestRefused("invalid_refund_to")
    if order.buyer_email not in verified_emails(buyer):
        raise RefundRequestRefused("not_your_order")
    order = locked(Order, order.id)
    if code := refusal_to_ask(order):
        raise RefundRequestRefused(code)
    request = RefundRequest(order=order, buyer_id=buyer.id, reason=text,
                            refund_to=RefundDestination(refund_to))
    db.session.add(request)
    db.session.flush()
    record_change(buyer, "refund.requested", request.public_id, order=order.public_id,
                  refund_to=request.refund_to)
    _tell_seller("refund.requested", request)
    db.session.flush()
    return request


def _locked_open(request: RefundRequest) -> RefundRequest:
    """``request`` read afresh under its order's lock; refused unless still open."""
    locked(Order, request.order_id)
    db.session.refresh(request)
    if request.status == RefundRequestStatus.REFUNDED:
        raise RefundRequestRefused("already_refunded")
    if request.status != RefundRequestStatus.OPEN:
        raise RefundRequestRefused("refund_request_not_open")
    return request


def withdraw(request: RefundRequest, buyer: Buyer) -> RefundRequest:
    """The buyer who asked takes ``request`` back; with its audit entry and the seller's
    ``refund_request.withdrawn`` webhook. Refused: ``not_your_request``,
    ``already_refunded``, ``refund_request_not_open``."""
    if request.buyer_id != buyer.id:
        raise RefundRequestRefused("not_your_request")
    request = _locked_open(request)
    request.status = RefundRequestStatus.WITHDRAWN
    request.closed_at = utcnow()
    record_change(buyer, "refund_request.withdrawn", request.public_id,
                  order=request.order.public_id)
    _tell_seller("refund_request.withdrawn", request)
    db.session.flush()
    return request


def decline(request: RefundRequest, reason: str, actor: Actor) -> RefundRequest:
    """The seller (``actor``: an API key, later a member of its team) declines the open
    ``request`` because of ``reason``; with the buyer's audit entry, the seller's
    ``refund_request.declined`` webhook and, once the transaction commits, a mail to the
    buyer in the order's language. Refused: ``reason_required``, ``reason_too_long``,
    ``already_refunded``, ``refund_request_not_open``."""
    text = _checked_reason(reason)
    request = _locked_open(request)
    request.status = RefundRequestStatus.DECLINED
    request.decline_reason = text
    request.closed_at = utcnow()
    record_change(request.buyer, "refund_request.declined", request.public_id, actor=actor,
                  seller=request.order.seller, order=request.order.public_id)
    _tell_seller("refund_request.declined", request)
    db.session.flush()
    enqueue_after_commit(db.session(), enqueue_decline_mails, [request.id])
    return request


def mark_refunded(order: Order, refund: Refund, actor: Actor = SYSTEM) -> RefundRequest | None:
    """Close ``order``'s open request as refunded by ``refund``, which just succeeded (in
    full or in part); with the buyer's audit entry. Subscribed to the status writer's
    ``refund.succeeded``: it runs in that transaction, the order locked. Returns the
    request closed, or None when none was open (or ``refund`` only gave back an
    overpayment, which answers no request), so calling it again changes nothing."""
    if refund.order_id != order.id or refund.status in (RefundStatus.PENDING,
                                                        RefundStatus.FAILED):
        raise ValueError(f"refund {refund.public_id} is not a succeeded refund of order "
                         f"{order.public_id}")
    if refund.kind == RefundKind.OVERPAYMENT:
        return None
    request = db.session.scalar(db.select(RefundRequest).filter_by(
        order_id=order.id, status=RefundRequestStatus.OPEN))
    if request is None:
        return None
    request.status = RefundRequestStatus.REFUNDED
    request.refund_id = refund.id
    request.closed_at = utcnow()
    record_change(request.buyer, "refund_request.refunded", request.public_id, actor=actor,
                  order=order.public_id, refund=refund.public_id)
    db.session.flush()
    return request


def request_of_seller(seller: Seller, request_id: str) -> RefundRequest:
    """``seller``'s request with public id ``request_id``; ``not_found`` for anyone
    else's, as for one that does not exist."""
    request = db.session.scalar(
        db.select(RefundRequest).join(Order)
        .where(RefundRequest.public_id == request_id, Order.seller_id == seller.id))
    if request is None:
        raise RefundRequestRefused("not_found")
    return request


@dataclass(frozen=True)
class RequestPage:
    requests: list[RefundRequest]
    has_more: bool
    next_cursor: str | None  # pass it as ``cursor`` for the next page


def requests_of_seller(seller: Seller, status: str | None = None, cursor: str | None = None,
                       limit: int = 20) -> RequestPage:
    """``seller``'s refund requests, newest first, ``limit`` at a time, only those in
    ``status`` when given; the page after the request ``cursor`` names (the previous
    page's ``next_cursor``; None or empty: the first page). Refused: ``invalid_status``,
    ``invalid_cursor``, ``invalid_limit``."""
    if status is not None and (not isinstance(status, str)
                               or status not in set(RefundRequestStatus)):
        raise RefundRequestRefused("invalid_status")
    if type(limit) is not int or not 1 <= limit <= 100:
        raise RefundRequestRefused("invalid_limit")
    query = db.select(RefundRequest).join(Order).where(Order.seller_id == seller.id)
    if cursor:
        # Looked up whatever its status: it may have changed since the previous page.
        after = db.session.scalar(query.with_only_columns(RefundRequest.id)
                                  .where(RefundRequest.public_id == cursor))
        if after is None:
            raise RefundRequestRefused("invalid_cursor")
        query = query.where(RefundRequest.id < after)
    if status is not None:
        query = query.where(RefundRequest.status == status)
    rows = db.session.scalars(query.order_by(RefundRequest.id.desc()).limit(limit + 1)).all()
    page = list(rows[:limit])
    has_more = len(rows) > limit
    return RequestPage(page, has_more, page[-1].public_id if has_more else None)
