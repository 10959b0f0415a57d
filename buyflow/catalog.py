"""Managing what sellers sell (these functions flush; the caller commits).

A product has a price (integer minor units of a currency: one of the seller's
``currencies`` when it names any) and may be a credit pack (``credit_amount`` of
``credit_unit`` granted once its order is paid). A product nobody ordered may be deleted;
one with orders is only archived (``active`` False: the buy flow no longer sells it), so
its orders keep naming it. Orders keep their items' amounts: a new price changes no order
already made. What a pack grants is read from the product when its order is paid or
refunded, so a product with orders keeps its pack as it is.

Refusals are ``CatalogRefused`` (a ``CodedError`` and a ``ValueError``) with a stable code;
given an ``actor``, every change is written to the audit log with what it was before and
is after, in the same transaction.
"""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import (
    NumberFormatError,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)

from .audit import record_action
from .errors import CodedError
from .extensions import db
from .ledger import book
from .ledger.book import LedgerError
from .locks import locked
from .models import OrderItem, Product, Seller
from .models.audit import Actor
from .money import Money, UnknownCurrency, currency_exponent

MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 2000
# The largest price or pack, in minor units (or points): far beyond any real one, well
# within the ledger's and the database's integers.
MAX_AMOUNT = 10**12
# The fields of a product its audit entries show.
AUDITED = ("name", "description", "amount", "currency", "credit_amount", "credit_unit",
           "active")


class CatalogRefused(CodedError, ValueError):
    """name_required, name_too_long, description_too_long, invalid_amount,
    too_many_decimals, invalid_currency, currency_not_offered, invalid_pack, invalid_unit,
    pack_has_orders (409), product_sold (409)."""

    http_status = 422


# Amounts people type -------------------------------------------------------------------

def unit_exponent(unit: str) -> int:
    """The decimals an amount of ``unit`` has: a currency's exponent, 0 for points."""
    return 0 if unit.startswith("points:") else currency_exponent(unit)


_PLAIN_DECIMAL = re.compile(r"\d+(?:[.,]\d+)?")


def parse_amount(text: str, unit: str, locale: str) -> int:
    """``text`` — an amount of ``unit`` in major units as a person of ``locale`` writes it
    (``14.50`` in en, ``14,50`` or ``1.450,50`` in de; a whole number of points) — in
    minor units (points as they are). The locale's way first; then, when that fails, plain
    digits with one ``.`` or ``,`` as the decimal mark (``14,50`` typed in en). Positive,
    at most MAX_AMOUNT; CatalogRefused ``invalid_amount`` or ``too_many_decimals``."""
    exponent = unit_exponent(unit)
    text = (text or "").strip()
    group = get_group_symbol(locale)
    if group.isspace():  # fr, ru, sv... group with a (no-break) space: any space will do
        text = re.sub(r"\s+", group, text)
    allowed = {".", ",", group, get_decimal_symbol(locale)}
    if not text or not all(c.isdigit() or c in allowed for c in text):  # no 1e5, -1, NaN
        raise CatalogRefused("invalid_amount", "The amount is not a number.")
    try:
        value = parse_decimal(text, locale=locale, strict=True)
    except NumberFormatError:
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise CatalogRefused("invalid_amount", "The amount is not a number.") from None
        value = Decimal(text.replace(",", "."))
    if not value.is_finite() or value <= 0:
        raise CatalogRefused("invalid_amount", "The amount must be a positive number.")
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise CatalogRefused("too_many_decimals",
                             f"An amount of {unit} has at most {exponent} decimals.")
    if minor > MAX_AMOUNT:
        raise CatalogRefused("invalid_amount", "The amount is too large.")
    return int(minor)


def amount_text(amount: int, unit: str, locale: str) -> str:
    """``amount`` minor units of ``unit`` as ``parse_amount`` reads it back in ``locale``:
    the locale's decimal mark, the unit's decimals, no grouping (``14,50`` in de)."""
    exponent = unit_exponent(unit)
    pattern = "0" if exponent == 0 else "0." + "0" * exponent
    return format_decimal(Decimal(amount).scaleb(-exponent), format=pattern, locale=locale)


# Products ------------------------------------------------------------------------------

def offered_currencies(seller: Seller) -> list[str]:
    """The currencies ``seller`` may price products in: its own list, else every one."""
    from .money import CURRENCY_EXPONENTS

    return list(seller.currencies) if seller.currencies else sorted(CURRENCY_EXPONENTS)


def _snapshot(product: Product) -> dict:
    return {field: getattr(product, field) for field in AUDITED}


def _checked_fields(seller: Seller, *, name: str, description: str, amount: int,
                    currency: str, credit_amount: int | None, credit_unit: str | None,
                    keep_currency: str | None = None) -> dict:
    """The product's fields as stored, or CatalogRefused. ``keep_currency``: the
    product's own, still accepted after the seller stopped offering it."""
    name, description = (name or "").strip(), (description or "").strip()
    if not name:
        raise CatalogRefused("name_required", "A product needs a name.")
    if len(name) > MAX_NAME_CHARS:
        raise CatalogRefused("name_too_long",
                             f"A product's name has at most {MAX_NAME_CHARS} characters.")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise CatalogRefused("description_too_long", f"A description has at most "
                             f"{MAX_DESCRIPTION_CHARS} characters.")
    if type(amount) is not int or not 0 < amount <= MAX_AMOUNT:
        raise CatalogRefused("invalid_amount",
                             "The amount must be a positive integer in minor units.")
    try:
        price = Money(amount, currency)
    except (UnknownCurrency, TypeError):
        raise CatalogRefused("invalid_currency", f"{currency!r} is not a currency "
                             "Buyflow sells in.") from None
    if (seller.currencies and price.currency not in seller.currencies
            and price.currency != keep_currency):
        raise CatalogRefused("currency_not_offered", f"{price.currency} is not one of the "
                             "seller's currencies.")
    if (credit_amount is None) != (credit_unit is None) or (
            credit_amount is not None and (type(credit_amount) is not int
                                           or not 0 < credit_amount <= MAX_AMOUNT)):
        raise CatalogRefused("invalid_pack",
                             "A credit pack needs a positive credit amount and its unit.")
    try:
        unit = book.valid_unit(credit_unit) if credit_unit is not None else None
    except LedgerError as exc:
        raise CatalogRefused("invalid_unit", exc.message) from None
    return {"name": name, "description": description, "amount": price.amount,
            "currency": price.currency, "credit_amount": credit_amount, "credit_unit": unit}


def create_product(seller: Seller, *, name: str, amount: int, currency: str,
                   description: str = "", credit_amount: int | None = None,
                   credit_unit: str | None = None, actor: Actor | None = None) -> Product:
    """Add a product at ``amount`` minor units of ``currency`` — a credit pack when it
    grants ``credit_amount`` of ``credit_unit`` once bought. CatalogRefused (a ValueError)
    for a bad name, amount, currency or pack; nothing written then. Audited
    (``product.created``) when an ``actor`` is given."""
    fields = _checked_fields(seller, name=name, description=description, amount=amount,
                             currency=currency, credit_amount=credit_amount,
                             credit_unit=credit_unit)
    product = Product(seller=seller, active=True, **fields)
    db.session.add(product)
    db.session.flush()  # its public id
    if actor is not None:
        record_action("product.created", product.public_id, actor=actor, seller=seller,
                      after=_snapshot(product))
    return product


def has_orders(product: Product) -> bool:
    """Whether any order (paid or not) has an item of ``product``."""
    return db.session.scalar(db.select(db.exists().where(OrderItem.product_id == product.id)))


def order_counts(products: list[Product]) -> dict[int, int]:
    """How many orders name each product (by row id; those with none are absent)."""
    if not products:
        return {}
    rows = db.session.execute(
        db.select(OrderItem.product_id, db.func.count(db.distinct(OrderItem.order_id)))
        .where(OrderItem.product_id.in_([p.id for p in products]))
        .group_by(OrderItem.product_id)).all()
    return dict(rows)


def update_product(product: Product, *, actor: Actor, name: str, description: str,
                   amount: int, currency: str, credit_amount: int | None,
                   credit_unit: str | None) -> dict:
    """Change what ``product`` is and costs; orders already made keep their amounts. A
    product with orders keeps its credit pack (``pack_has_orders``): their grants and
    take-backs read it. Returns the fields that changed, ``{field: (before, after)}``
    (audited as ``product.updated``; nothing when nothing changed)."""
    fields = _checked_fields(product.seller, name=name, description=description,
                             amount=amount, currency=currency, credit_amount=credit_amount,
                             credit_unit=credit_unit, keep_currency=product.currency)
    changes = {field: (getattr(product, field), value) for field, value in fields.items()
               if getattr(product, field) != value}
    if not changes:
        return {}
    if ({"credit_amount", "credit_unit"} & changes.keys()) and has_orders(product):
        raise CatalogRefused("pack_has_orders", "The product has orders, which grant its "
                             "credit pack as it is: archive it and make a new one.", 409)
    for field, (_before, after) in changes.items():
        setattr(product, field, after)
    db.session.flush()
    record_action("product.updated", product.public_id, actor=actor, seller=product.seller,
                  before={f: before for f, (before, _after) in changes.items()},
                  after={f: after for f, (_before, after) in changes.items()})
    return changes


def set_archived(product: Product, archived: bool, *, actor: Actor) -> bool:
    """Archive ``product`` (the buy flow no longer sells it; its orders keep it) or bring
    it back; returns whether anything changed (audited: ``product.archived`` or
    ``product.unarchived``)."""
    if product.active == (not archived):
        return False
    product.active = not archived
    db.session.flush()
    record_action("product.archived" if archived else "product.unarchived",
                  product.public_id, actor=actor, seller=product.seller,
                  before={"active": archived}, after={"active": not archived})
    return True


def delete_product(product: Product, *, actor: Actor) -> None:
    """Delete a product nobody ordered (audited: ``product.deleted``, with what it was).
    One with orders is refused (``product_sold``): archive it instead. The product is
    locked first, so an order made at the same moment either is seen here or fails."""
    seller, public_id = product.seller, product.public_id
    product = locked(Product, product.id)
    if product is None:
        return
    if has_orders(product):
        raise CatalogRefused("product_sold", "The product has orders: archive it instead; "
                             "a product that was ordered is never deleted.", 409)
    before = _snapshot(product)
    db.session.delete(product)
    db.session.flush()
    record_action("product.deleted", public_id, actor=actor, seller=seller, before=before)
