"""Offline payments — a bank transfer, cash, an invoice paid, a payment by phone — as a
payment source: recorded by staff (through the API, later the console) with their
reference, who recorded them and when; nothing is called. A refund part of one is
recorded as done: the seller pays it back by the same way, themselves.
"""

from __future__ import annotations

from ..errors import CodedError
from ..extensions import db
from ..locks import locked
from ..models import Order, Payment
from .balance import amount_to_charge
from .base import LocalRefunds
from .service import apply_payment_action
from .states import Action, OrderStatus, PaymentSource

METHODS = ("bank_transfer", "cash", "invoice", "phone")


class OfflinePaymentRefused(CodedError):
    """order_not_payable (409), amount_exceeds_due, partial_not_allowed, invalid_method,
    invalid_amount, reference_required (422/400)."""


class OfflineSource(LocalRefunds):
    name = PaymentSource.OFFLINE

    def give_back(self, part) -> dict:
        return {"note": "to be paid back by the seller, as it was paid"}


def record_offline_payment(order: Order, *, method: str, amount: int | None,
                           reference: str, recorded_by: str) -> Payment:
    """Record that ``order`` was paid ``amount`` (what is due, when None) by ``method``
    outside Buyflow, with the payment's ``reference`` and who recorded it. Less than is
    due only when the seller allows partial offline payments; never more. The order is
    paid when nothing is left due. Flushes; the caller commits. OfflinePaymentRefused."""
    if method not in METHODS:
        raise OfflinePaymentRefused("invalid_method",
                                    f"'method' must be one of {', '.join(METHODS)}.")
    if not reference.strip() or len(reference.strip()) > 200:
        raise OfflinePaymentRefused("reference_required",
                                    "Give the payment's reference (200 characters at most).")
    order = locked(Order, order.id)
    if order.status != OrderStatus.PENDING:
        raise OfflinePaymentRefused("order_not_payable",
                                    f"The order is {order.status}: nothing is due.", 409)
    due = amount_to_charge(order)
    amount = due if amount is None else amount
    if amount <= 0:
        raise OfflinePaymentRefused("invalid_amount", "The amount must be positive.")
    if amount > due:
        raise OfflinePaymentRefused("amount_exceeds_due",
                                    f"Only {due} is left to pay on this order.", 422)
    if amount < due and not order.seller.allow_partial_offline:
        raise OfflinePaymentRefused("partial_not_allowed",
                                    f"The payment must be the {due} due: this seller "
                                    "takes no partial offline payments.", 422)
    payment = Payment(order=order, provider=PaymentSource.OFFLINE, method=method,
                      amount=amount, currency=order.currency, reference=reference.strip(),
                      recorded_by=recorded_by)
    db.session.add(payment)
    db.session.flush()
    apply_payment_action(payment, Action.SUCCEED, detail={"recorded_by": recorded_by})
    return payment
