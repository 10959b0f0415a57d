"""Managing what sellers sell."""

from __future__ import annotations

from .extensions import db
from .models import Product, Seller
from .money import Money


def create_product(seller: Seller, *, name: str, amount: int, currency: str,
                   description: str = "") -> Product:
    """Add a product at ``amount`` minor units of ``currency``. ValueError (UnknownCurrency
    among them) for a bad name, amount or currency; nothing written then."""
    if not name.strip():
        raise ValueError("a product needs a name")
    if type(amount) is not int or amount <= 0:
        raise ValueError("the amount must be a positive integer in minor units")
    price = Money(amount, currency)
    product = Product(seller=seller, name=name.strip(), description=description.strip(),
                      amount=price.amount, currency=price.currency)
    db.session.add(product)
    db.session.commit()
    return product
