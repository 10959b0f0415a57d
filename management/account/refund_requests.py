"""A buyer asks the seller for a refund; the seller hears of it by webhook."""

from __future__ import annotations

from buyflow.buyers.audit import record_change
from buyflow.extensions import db
from buyflow.models import Buyer, Order, RefundRequest
from buyflow.payments.states import OrderStatus
from buyflow.sellers.payloads import order_payload
from buyflow.sellers.webhooks import record_event

REFUNDABLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


class RequestRefused(Exception):
    """``code``: not_refundable, already_requested."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def open_request(order: Order) -> RefundRequest | None:
    return next((r for r in order.refund_requests if r.status == "open"), None)


def request_refund(buyer: Buyer, order: Order, reason: str) -> RefundRequest:
    """Record ``buyer``'s request for a refund of ``order``, its audit entry and the
    seller's ``refund.requested`` webhook, in one transaction."""
    if order.status not in REFUNDABLE:
        raise RequestRefused("not_refundable")
    if open_request(order) is not None:
        raise RequestRefused("already_requested")
    request = RefundRequest(order=order, buyer_id=buyer.id, reason=reason.strip())
    db.session.add(request)
    db.session.flush()
    record_change(buyer, "refund.requested", request.public_id, order=order.public_id)
    record_event(order.seller, "refund.requested", {
        "refund_request": {"id": request.public_id, "reason": request.reason,
                           "created_at": request.created_at.isoformat()},
        "order": order_payload(order),
    })
    db.session.commit()
    return request
