"""What a seller is told about an order: in the signed result and in API answers."""

from __future__ import annotations

from ..models import LedgerTransaction, Order, Payment, Refund
from ..payments.balance import amount_due, amount_paid, refunded_amount
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


def payment_payload(payment: Payment) -> dict:
    """One payment of an order, with its source: a card (its brand and last four), credit,
    or an offline method with its reference and who recorded it."""
    return {
        "id": payment.public_id,
        "source": payment.provider if payment.provider in ("credit", "offline") else "card",
        "method": payment.method,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": payment.status,
        "card": ({"brand": payment.card_brand, "last4": payment.card_last4}
                 if payment.method == "card" and payment.card_last4 else None),
        "reference": payment.reference if payment.provider == "offline" else None,
        "recorded_by": payment.recorded_by,
        "failure_code": payment.failure_code,
        "created_at": payment.created_at.isoformat(),
    }


def refund_payload(refund: Refund) -> dict:
    """A refund with its parts: what each payment gives back, and where to."""
    return {
        "id": refund.public_id,
        "order": refund.order.public_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "reason": refund.reason,
        "kind": refund.kind,
        "destination": refund.destination,
        "status": refund.status,
        "parts": [{"payment": part.payment.public_id, "amount": part.amount,
                   "destination": part.destination, "status": part.status}
                  for part in refund.parts],
        "created_at": refund.created_at.isoformat(),
    }


def credit_transaction_payload(transaction: LedgerTransaction) -> dict:
    """A credit movement as sellers see it: the buyer's gain (or loss, negative)."""
    return {
        "id": transaction.public_id,
        "buyer_email": transaction.buyer.email,
        "unit": transaction.unit,
        "amount": transaction.amount,
        "kind": transaction.kind,
        "reason": transaction.reason,
        "source": {"type": transaction.source_type, "id": transaction.source_ref},
        "created_at": transaction.created_at.isoformat(),
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
        "amount_paid": amount_paid(order),
        "amount_due": amount_due(order) if order.status == "pending" else 0,
        "refunded_amount": refunded_amount(order),
        "payments": [payment_payload(p) for p in order.payments],
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
