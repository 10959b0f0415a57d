"""What a buy flow sells: a catalog product, or the items of a seller's signed request."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from ..extensions import db
from ..models import Order, OrderItem, Product, Seller
from ..money import Money, UnknownCurrency
from ..payments.states import PURCHASED_ORDER_STATUSES, OrderStatus
from ..sellers.requests import PurchaseRequestError


@dataclass(frozen=True)
class Line:
    name: str
    unit_amount: int
    quantity: int
    product: str | None  # the product's public id, when it is one of the catalog's

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity


@dataclass(frozen=True)
class Purchase:
    lines: tuple[Line, ...]
    currency: str
    email: str | None = None  # set by the seller: the buyer cannot change it
    reference: str | None = None  # the seller's own id: one order per reference
    passthrough: dict | None = None  # the seller's data, handed back untouched

    @property
    def total(self) -> Money:
        return Money(sum(line.amount for line in self.lines), self.currency)

    def line_prices(self) -> list[tuple[Line, Money]]:
        return [(line, Money(line.amount, self.currency)) for line in self.lines]

    def order_items(self) -> list[OrderItem]:
        """New order items for these lines, linked to their catalog products (each found
        by its public id as the item is inserted: no product is read for it)."""
        return [OrderItem(product_id=_product_row(line.product), name=line.name,
                          quantity=line.quantity, unit_amount=line.unit_amount,
                          amount=line.amount) for line in self.lines]

    def checkout_key(self, seller: Seller, random_key: str) -> str:
        """The flow's key for its order: from the seller's reference when there is one, so
        that every flow for that reference finds the same order."""
        if self.reference is None:
            return random_key
        return hashlib.sha256(f"{seller.public_id}\n{self.reference}".encode()).hexdigest()[:64]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Purchase:
        return cls(**{**data, "lines": tuple(Line(**line) for line in data["lines"])})


def _product_row(public_id: str | None):
    """The row id of the product ``public_id``, as SQL evaluated in the INSERT of the item
    that names it (NULL when there is no such product); None for a line of no product."""
    if not public_id:
        return None
    return db.select(Product.id).where(Product.public_id == public_id).scalar_subquery()


def purchase_of_product(product: Product) -> Purchase:
    return Purchase(lines=(Line(product.name, product.amount, 1, product.public_id),),
                    currency=product.currency)


def purchase_of_request(request: dict, seller: Seller) -> Purchase:
    """The purchase a verified request describes; PurchaseRequestError if it names a
    currency we do not take or a product that is not the seller's (``request_invalid``),
    or a reference whose order can no longer be paid (409: ``already_paid``, also once
    refunded, or ``order_expired``), so the flow refuses it before the buyer pays."""
    try:
        Money(1, request["currency"])
    except UnknownCurrency:
        raise PurchaseRequestError("request_invalid",
                                   f"currency {request['currency']} is not supported") from None
    named = {item["product"] for item in request["items"] if item["product"]}
    if named:
        found = set(db.session.scalars(db.select(Product.public_id).where(
            Product.public_id.in_(named), Product.seller_id == seller.id, Product.active)))
        if missing := sorted(named - found):
            raise PurchaseRequestError("request_invalid",
                                       f"unknown product(s): {', '.join(missing)}")
    lines = tuple(Line(item["name"], item["unit_amount"], item["quantity"], item["product"])
                  for item in request["items"])
    purchase = Purchase(lines=lines, currency=request["currency"], email=request["email"],
                        reference=request["reference"], passthrough=request["passthrough"])
    if purchase.reference is not None:
        _check_reference_payable(purchase, seller)
    return purchase


def _check_reference_payable(purchase: Purchase, seller: Seller) -> None:
    """PurchaseRequestError when the order of the purchase's reference (every flow for the
    reference finds the same one) was paid, or expired unpaid."""
    status = db.session.scalar(db.select(Order.status).filter_by(
        checkout_key=purchase.checkout_key(seller, ""), seller_id=seller.id))
    if status in PURCHASED_ORDER_STATUSES:
        raise PurchaseRequestError("already_paid", f"the order of reference "
                                   f"{purchase.reference!r} is already paid", 409)
    if status == OrderStatus.EXPIRED:
        raise PurchaseRequestError("order_expired", f"the order of reference "
                                   f"{purchase.reference!r} expired unpaid", 409)
