"""The buyer's credit balance with a seller, as a payment source.

Paying with credit reserves it first: ``hold_credit`` (when the order opens in the buy
flow) writes a ledger hold and a payment in ``authorized``; the status writer takes it
(``capture``) once the rest of the order is paid, or gives it back (``release``) when the
order expires or the buyer changes their mind. A refund part of a credit payment, or of
any payment refunded as credit, is credited back (``give_back``). Only an order's own
currency is spent; points are granted and debited but pay for nothing yet.
"""

from __future__ import annotations

from ..extensions import db
from ..ledger import book
from ..locks import locked
from ..models import Buyer, LedgerTransaction, Order, Payment
from .balance import amount_to_charge
from .base import HoldingSource, LocalRefunds
from .service import apply_payment_action
from .states import Action, OrderStatus, PaymentSource, PaymentStatus, RefundDestination


class CreditSource(HoldingSource, LocalRefunds):
    name = PaymentSource.CREDIT

    def capture(self, payment: Payment) -> None:
        book.capture(db.session.get(LedgerTransaction, payment.ledger_transaction_id))

    def release(self, payment: Payment) -> None:
        book.release(db.session.get(LedgerTransaction, payment.ledger_transaction_id))

    def give_back(self, part) -> dict:
        payment = part.payment
        order = payment.order
        moved = book.give_back(
            order.seller, order.buyer, order.currency, part.amount,
            spent=part.destination == RefundDestination.SOURCE
            and payment.provider == self.name,
            refund_ref=part.public_id, idempotency_key=f"refund-part:{part.public_id}")
        part.ledger_transaction_id = moved.id
        return {"ledger_transaction": moved.public_id}


def held_credit(order: Order) -> Payment | None:
    """The order's credit payment still reserved, if any."""
    return next((p for p in order.payments if p.provider == PaymentSource.CREDIT
                 and p.status == PaymentStatus.AUTHORIZED), None)


def hold_credit(order: Order, buyer: Buyer, amount: int) -> Payment | None:
    """Reserve ``amount`` of ``buyer``'s credit in ``order``'s currency for the order
    (replacing what was reserved before; 0 reserves nothing), as an authorized credit
    payment; when it covers all that is left to pay, it is taken at once and the order
    is paid. Flushes; the caller commits. LedgerError insufficient_credit when the
    balance is lower; ValueError for more than is left to pay."""
    order = locked(Order, order.id)
    if order.status != OrderStatus.PENDING:
        raise ValueError(f"order {order.public_id} is {order.status}")
    previous = held_credit(order)
    if previous is not None:
        if previous.amount == amount:
            return previous
        apply_payment_action(previous, Action.CANCEL, detail={"reason": "replaced"})
    if amount == 0:
        return None
    if amount < 0 or amount > amount_to_charge(order):
        raise ValueError("more credit than is left to pay")
    payment = Payment(order=order, provider=PaymentSource.CREDIT, method="credit",
                      amount=amount, currency=order.currency)
    db.session.add(payment)
    db.session.flush()
    reserved = book.hold(order.seller, buyer, order.currency, amount,
                         order_ref=order.public_id,
                         idempotency_key=f"hold:{payment.public_id}")
    payment.ledger_transaction_id = reserved.id
    payment.reference = reserved.public_id
    apply_payment_action(payment, Action.AUTHORIZE)
    return payment
