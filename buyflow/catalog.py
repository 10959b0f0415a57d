"""Managing what sellers sell (these functions flush; the caller commits)."""

from __future__ import annotations

from .extensions import db
from .ledger import book
from .models import Product, Seller
from .money import Money


def create_product(seller: Seller, *, name: str, amount: int, currency: str,
                   description: str = "", credit_amount: int | None = None,
                   credit_unit: str | None = None) -> Product:
    """Add a product at ``amount`` minor units of ``currency`` — a credit pack when it
    grants ``credit_amount`` of ``credit_unit`` once bought. ValueError (UnknownCurrency
    among them) for a bad name, amount or currency, LedgerError for a bad unit; nothing
    written then."""
    if not name.strip():
        raise ValueError("a product needs a name")
    if type(amount) is not int or amount <= 0:
        raise ValueError("the amount must be a positive integer in minor units")
    if (credit_amount is None) != (credit_unit is None) or (
            credit_amount is not None and credit_amount <= 0):
        raise ValueError("a credit pack needs a positive credit amount and its unit")
    unit = book.valid_unit(credit_unit) if credit_unit is not None else None
    price = Money(amount, currency)
    product = Product(seller=seller, name=name.strip(), description=description.strip(),
                      amount=price.amount, currency=price.currency,
                      credit_amount=credit_amount, credit_unit=unit)
    db.session.add(product)
    db.session.flush()  # its public id
    return product
