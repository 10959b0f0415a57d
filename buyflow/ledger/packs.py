"""Credit packs: a product that grants units when its order is paid.

Each pack line of a paid order grants ``credit_amount`` × quantity of the product's
``credit_unit`` to the order's buyer, once (the key names the order line). A refund of
such an order takes back the same share of what the packs granted, as far as the buyer
still has it (what they spent meanwhile stays spent: the seller decides about the rest).
"""

from __future__ import annotations

from ..models import Order, Refund
from .book import balance, debit, grant


def _pack_lines(order: Order):
    return [(item, item.product) for item in order.items
            if item.product is not None and item.product.credit_amount]


def grant_packs(order: Order) -> None:
    for item, product in _pack_lines(order):
        grant(order.seller, order.buyer, product.credit_unit,
              product.credit_amount * item.quantity,
              idempotency_key=f"pack:{order.public_id}:{item.id}",
              reason=f"Credit pack: {item.name} × {item.quantity}",
              source_type="order", source_ref=order.public_id)


def take_back_packs(order: Order, refund: Refund) -> None:
    if refund.kind != "order" or not order.amount:
        return
    for item, product in _pack_lines(order):
        share = product.credit_amount * item.quantity * refund.amount // order.amount
        amount = min(share, balance(order.seller, order.buyer, product.credit_unit))
        if amount > 0:
            debit(order.seller, order.buyer, product.credit_unit, amount,
                  idempotency_key=f"pack-refund:{refund.public_id}:{item.id}",
                  reason=f"Refund of credit pack: {item.name}")
