"""What a buy flow sells: a catalog product, or the items of a seller's signed request."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from ..extensions import db
from ..models import OrderItem, Product, Seller
from ..money import Money, UnknownCurrency
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
        """New order items for these lines, linked to their catalog products."""
        ids = {line.product for line in self.lines if line.product}
        products = {p.public_id: p for p in db.session.scalars(
            db.select(Product).where(Product.public_id.in_(ids)))} if ids else {}
        return [OrderItem(product=products.get(line.product), name=line.name,
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


def purchase_of_product(product: Product) -> Purchase:
    return Purchase(lines=(Line(product.name, product.amount, 1, product.public_id),),
                    currency=product.currency)


def purchase_of_request(request: dict, seller: Seller) -> Purchase:
    """The purchase a verified request describes; PurchaseRequestError if it names a
    currency we do not take or a product that is not the seller's."""
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
    lines = tuple(Line(item["name"], item["amount"], item["quantity"], item["product"])
                  for item in request["items"])
    return Purchase(lines=lines, currency=request["currency"], email=request["email"],
                    reference=request["reference"], passthrough=request["passthrough"])
