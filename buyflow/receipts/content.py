"""What a receipt says, built from an order in one locale: plain data whose texts are
already translated and formatted, for the page, the PDF and the email alike."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import text_direction, zoned_datetime
from ..models import Order, Payment
from ..money import Money, format_money
from ..payments.states import (
    PURCHASED_ORDER_STATUSES,
    PaymentStatus,
    RefundKind,
    RefundStatus,
)
from ..sellers.brand import usable_accent
from .numbers import receipt_of

# Only an order that was paid has a receipt; refunds since then appear on it.
RECEIPTED = PURCHASED_ORDER_STATUSES  # a receipt for each purchase

# How a payment was made, when not by card (a card reads as its brand and last four).
PAYMENT_METHODS = {
    "credit": _l("Credit with this shop"),
    "bank_transfer": _l("Bank transfer"),
    "cash": _l("Cash"),
    "invoice": _l("Invoice"),
    "phone": _l("By phone"),
}
PDF_BACKGROUND = "#ffffff"


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    quantity: str
    unit_price: str
    amount: str


@dataclass(frozen=True)
class ReceiptPayment:
    method: str  # "Visa ending in 4242", "Bank transfer (TRF-77)"...
    amount: str


@dataclass(frozen=True)
class ReceiptRefund:
    date: str
    amount: str


@dataclass(frozen=True)
class Receipt:
    """Every text of one receipt, translated into ``locale``; ``labels`` names the parts.
    ``logo`` is the seller's logo image (PNG, JPEG or WebP bytes) and ``accent`` its
    accent colour where it reads on white, for the PDF; either may be None."""

    locale: str
    direction: str  # "ltr" or "rtl"
    number: str
    order_id: str
    seller_name: str
    seller_address: list[str]
    support_email: str | None
    paid_on: str
    buyer_email: str
    lines: list[ReceiptLine]
    total: str
    payments: list[ReceiptPayment]
    refunds: list[ReceiptRefund]
    net_amount: str | None  # only when something was refunded
    labels: dict[str, str]
    logo: bytes | None
    accent: str | None


def has_receipt(order: Order) -> bool:
    return order.status in RECEIPTED and order.paid_at is not None


def payment_method(payment: Payment) -> str:
    """How ``payment`` was made, in the current language: a card's brand and last four,
    credit, or an offline method with its reference."""
    if payment.method == "card":
        return _("%(brand)s ending in %(last4)s", brand=(payment.card_brand or "").title(),
                 last4=payment.card_last4 or "")
    method = str(PAYMENT_METHODS.get(payment.method, payment.method))
    if payment.provider == "offline" and payment.reference:
        return f"{method} ({payment.reference})"
    return method


def _labels(order: Order) -> dict[str, str]:
    return {
        "title": _("Receipt"),
        "heading": _("Receipt for order %(id)s", id=order.public_id),
        "from_shop": _("Receipt from %(shop)s", shop=order.seller.name),
        "number": _("Receipt number"),
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
        "date": _("Date"),
        "net_amount": _("Net amount after refunds"),
        "support": _("Support"),
        "questions": (_("Questions about this purchase? Write to %(email)s.",
                        email=order.seller.support_email)
                      if order.seller.support_email else ""),
        "processed_by": _("Payment processed by Buyflow for %(shop)s.",
                          shop=order.seller.name),
    }


def build_receipt(order: Order, locale: str) -> Receipt:
    """The receipt of ``order`` in ``locale``. The order must have one (``has_receipt``)
    and its number (issued when it was paid)."""
    if not has_receipt(order):
        raise ValueError(f"order {order.public_id} was not paid: it has no receipt")
    issued = receipt_of(order)
    if issued is None:
        raise LookupError(f"order {order.public_id} was paid but no receipt was issued")

    def money(amount: int) -> str:
        return format_money(Money(amount, order.currency), locale)

    seller = order.seller
    with force_locale(locale):
        # What the order cost given back; a second charge given back is not in its sums.
        refunds = [(r, sum(p.amount for p in r.parts if p.status == RefundStatus.SUCCEEDED))
                   for r in order.refunds if r.kind == RefundKind.ORDER]
        refunds = [(r, amount) for r, amount in refunds if amount]
        refunded = sum(amount for _, amount in refunds)
        accent = usable_accent(seller.accent_color, PDF_BACKGROUND)
        return Receipt(
            locale=locale,
            direction=text_direction(locale),
            number=issued.number,
            order_id=order.public_id,
            seller_name=seller.name,
            seller_address=(seller.postal_address or "").splitlines(),
            support_email=seller.support_email,
            paid_on=zoned_datetime(order.paid_at, locale),
            buyer_email=order.buyer_email,
            lines=[ReceiptLine(name=item.name, quantity=format_decimal(item.quantity),
                               unit_price=money(item.unit_amount), amount=money(item.amount))
                   for item in order.items],
            total=money(order.amount),
            payments=[ReceiptPayment(method=payment_method(p), amount=money(p.amount))
                      for p in order.payments if p.status == PaymentStatus.SUCCEEDED],
            refunds=[ReceiptRefund(date=zoned_datetime(r.created_at, locale),
                                   amount=money(amount)) for r, amount in refunds],
            net_amount=money(order.amount - refunded) if refunds else None,
            labels=_labels(order),
            logo=seller.logo_image if seller.logo_digest else None,
            accent=accent.colour if accent else None,
        )
