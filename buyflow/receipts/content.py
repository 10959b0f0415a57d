"""What a receipt says, built from an order in one locale: plain data whose texts are
already translated and formatted, for the page, the PDF and the email alike."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_datetime, format_decimal, force_locale
from flask_babel import gettext as _

from ..i18n import text_direction
from ..models import Order
from ..money import Money, format_money
from ..payments.states import (
    PURCHASED_ORDER_STATUSES,
    PaymentStatus,
    RefundKind,
    RefundStatus,
)

# Only an order that was paid has a receipt; refunds since then appear on it.
RECEIPTED = PURCHASED_ORDER_STATUSES  # a receipt for each purchase


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    quantity: str
    unit_price: str
    amount: str


@dataclass(frozen=True)
class ReceiptRefund:
    date: str
    amount: str


@dataclass(frozen=True)
class Receipt:
    """Every text of one receipt, translated into ``locale``; ``labels`` names the parts."""

    locale: str
    direction: str  # "ltr" or "rtl"
    order_id: str
    seller_name: str
    paid_on: str
    buyer_email: str
    lines: list[ReceiptLine]
    total: str
    cards: list[str]
    refunds: list[ReceiptRefund]
    net_amount: str | None  # only when something was refunded
    labels: dict[str, str]


def has_receipt(order: Order) -> bool:
    return order.status in RECEIPTED and order.paid_at is not None


def _labels(order: Order) -> dict[str, str]:
    return {
        "title": _("Receipt"),
        "heading": _("Receipt for order %(id)s", id=order.public_id),
        "shop": _("Shop"),
        "order": _("Order"),
        "paid_on": _("Paid on"),
        "email": _("Email"),
        "items": _("Items"),
        "quantity": _("Quantity"),
        "unit_price": _("Unit price"),
        "amount": _("Amount"),
        "total": _("Total"),
        "paid_with": _("Paid with"),
        "refunds": _("Refunds"),
        "net_amount": _("Net amount after refunds"),
    }


def build_receipt(order: Order, locale: str) -> Receipt:
    """The receipt of ``order`` in ``locale``. The order must have one (``has_receipt``)."""
    if not has_receipt(order):
        raise ValueError(f"order {order.public_id} was not paid: it has no receipt")

    def money(amount: int) -> str:
        return format_money(Money(amount, order.currency), locale)

    with force_locale(locale):
        # What the order cost given back; a second charge given back is not in its sums.
        refunds = [(r, sum(p.amount for p in r.parts if p.status == RefundStatus.SUCCEEDED))
                   for r in order.refunds if r.kind == RefundKind.ORDER]
        refunds = [(r, amount) for r, amount in refunds if amount]
        refunded = sum(amount for _, amount in refunds)
        return Receipt(
            locale=locale,
            direction=text_direction(locale),
            order_id=order.public_id,
            seller_name=order.seller.name,
            paid_on=format_datetime(order.paid_at, "medium"),
            buyer_email=order.buyer_email,
            lines=[ReceiptLine(name=item.name, quantity=format_decimal(item.quantity),
                               unit_price=money(item.unit_amount), amount=money(item.amount))
                   for item in order.items],
            total=money(order.amount),
            cards=[_("card %(brand)s ending in %(last4)s",
                     brand=(p.card_brand or "").title(), last4=p.card_last4 or "")
                   for p in order.payments
                   if p.status == PaymentStatus.SUCCEEDED and p.method == "card"],
            refunds=[ReceiptRefund(date=format_datetime(r.created_at, "medium"),
                                   amount=money(amount)) for r, amount in refunds],
            net_amount=money(order.amount - refunded) if refunds else None,
            labels=_labels(order),
        )
