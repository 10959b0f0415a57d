"""What a seller is told about an order: in the signed result and in API answers."""

from __future__ import annotations

from ..models import Order, Refund
from ..payments.balance import refunded_amount
from .results import sign_result


def _items(order: Order) -> list[dict]:
    return [
        {
            "product": item.product.public_id if item.product else None,
            "name": item.name,
            "quantity": item.quantity,
            "unit_amount": item.unit_amount,
            "amount": item.amount,
        }
        for item in order.items
    ]


def refund_payload(refund: Refund) -> dict:
    return {
        "id": refund.public_id,
        "order": refund.order.public_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "reason": refund.reason,
        "kind": refund.kind,
        "status": refund.status,
        "created_at": refund.created_at.isoformat(),
    }


def order_payload(order: Order) -> dict:
    """The order as the API shows it: amounts in minor units, times in ISO 8601 UTC."""
    return {
        "id": order.public_id,
        "seller": order.seller.public_id,
        "status": order.status,
        "amount": order.amount,
        "currency": order.currency,
        "items": _items(order),
        "buyer_email": order.buyer_email,
        "created_at": order.created_at.isoformat(),
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "reference": order.seller_reference,
        "passthrough": order.passthrough,
        "refunded_amount": refunded_amount(order),
        "refunds": [refund_payload(r) for r in order.refunds],
    }


RESULT_FIELDS = ("seller", "items", "amount", "currency", "status", "buyer_email",
                 "reference", "passthrough")


def signed_result(order: Order) -> str:
    """The order's signed result, as handed to the seller's page: the order's id as
    ``order`` and the fields a seller needs to fulfil it."""
    payload = order_payload(order)
    result = {"order": payload["id"], **{field: payload[field] for field in RESULT_FIELDS}}
    return sign_result(result, order.seller.signing_secrets)
