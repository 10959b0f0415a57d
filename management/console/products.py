"""The console's products: the catalog, active products first and archived ones apart;
making and changing a product and its price (typed in major units the way the person's
language writes them), credit packs, archiving, and deleting one nobody ordered. The
rules are in ``buyflow/catalog.py``."""

from __future__ import annotations

from babel.numbers import format_decimal
from flask import flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from buyflow import catalog
from buyflow.catalog import CatalogRefused
from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.ledger.book import LedgerError
from buyflow.models import Product
from buyflow.money import CURRENCY_EXPONENTS, Money, format_money
from buyflow.people.roles import Permission

from . import bp
from .access import console_actor, current_seller, member_page, seller_object


def locale() -> str:
    return str(get_locale())


def units_text(amount: int, unit: str) -> str:
    """An amount of a currency (minor units) or of points, as the page's language writes
    it: ``14,50 €``, ``100 stars``."""
    if unit.startswith("points:"):
        return _("%(amount)s %(points)s", amount=format_decimal(amount, locale=locale()),
                 points=unit.removeprefix("points:"))
    return format_money(Money(amount, unit), locale())


def money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), locale())


# What a credit unit is (ledger/book.py's valid_unit), in words.
UNIT_RULE = _l("A unit is a currency code (EUR), or points:name for points, the name in "
               "lower-case letters, digits, - and _ (points:stars).")


class ProductForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=catalog.MAX_NAME_CHARS)])
    description = TextAreaField(_l("Description"),
                                validators=[Optional(), Length(max=catalog.MAX_DESCRIPTION_CHARS)])
    price = StringField(_l("Price"), validators=[DataRequired()])
    currency = SelectField(_l("Currency"), validators=[DataRequired()], validate_choice=True)
    is_pack = BooleanField(_l("This product is a credit pack"))
    credit_amount = StringField(_l("Credit each one bought grants"), validators=[Optional()])
    credit_unit = StringField(_l("Credit unit"), validators=[Optional(), Length(max=40)])


class ConfirmForm(FlaskForm):
    """A button only: the CSRF token is the whole form."""


def _refusal(code: str, currency: str | None = None, unit: str | None = None) -> str:
    """A refusal of the catalog, in the person's language."""
    messages = {
        "name_required": _("Give the product a name."),
        "name_too_long": _("A name has at most %(count)d characters.",
                           count=catalog.MAX_NAME_CHARS),
        "description_too_long": _("A description has at most %(count)d characters.",
                                  count=catalog.MAX_DESCRIPTION_CHARS),
        "invalid_currency": _("Choose one of the currencies in the list."),
        "currency_not_offered": _("Choose one of the currencies in the list."),
        "invalid_pack": _("A credit pack needs both the credit it grants and its unit."),
        "invalid_unit": str(UNIT_RULE),
        "pack_has_orders": _("This product has orders, which grant its credit pack as it "
                             "is: archive it and make a new product instead."),
        "product_sold": _("This product has orders, so it cannot be deleted: archive it "
                          "instead. Buyers then cannot buy it any more, and its orders "
                          "keep it."),
    }
    if code == "too_many_decimals":
        which = unit or currency
        return _("An amount of %(unit)s has at most %(count)d decimals.", unit=which,
                 count=catalog.unit_exponent(which))
    if code == "invalid_amount":
        which = unit or currency or "EUR"
        return _("Enter a positive amount, like %(example)s.",
                 example=catalog.amount_text(1450 if not which.startswith("points:") else 100,
                                             which, locale()))
    return messages.get(code, code)


def _form_for(product: Product | None) -> ProductForm:
    """The form, with the currencies this product may be priced in."""
    seller = current_seller()
    if product is None:
        form = ProductForm()
    else:
        data = {"name": product.name, "description": product.description,
                "price": catalog.amount_text(product.amount, product.currency, locale()),
                "currency": product.currency, "is_pack": bool(product.credit_amount),
                "credit_unit": product.credit_unit or ""}
        if product.credit_amount:
            data["credit_amount"] = catalog.amount_text(product.credit_amount,
                                                        product.credit_unit, locale())
        form = ProductForm(data=data)
    currencies = catalog.offered_currencies(seller)
    if product is not None and product.currency not in currencies:
        currencies = [product.currency, *currencies]
    form.currency.choices = [(code, code) for code in currencies]
    if product is None and not form.currency.data and seller.currencies:
        form.currency.data = seller.currencies[0]
    return form


def _fields_of(form: ProductForm) -> dict | None:
    """The product's fields from a validated form (amounts in minor units), or None with
    the errors put on the fields."""
    currency = form.currency.data
    fields = {"name": form.name.data, "description": form.description.data or "",
              "currency": currency, "credit_amount": None, "credit_unit": None}
    ok = not form.errors
    if not form.price.errors:
        known = currency if currency in CURRENCY_EXPONENTS else "EUR"  # else refused anyway
        try:
            fields["amount"] = catalog.parse_amount(form.price.data, known, locale())
        except CatalogRefused as exc:
            form.price.errors.append(_refusal(exc.code, currency=known))
            ok = False
    if form.is_pack.data and not form.credit_unit.errors:
        unit_text = (form.credit_unit.data or "").strip()
        try:
            unit = book.valid_unit(unit_text) if unit_text else None
        except LedgerError:
            form.credit_unit.errors.append(_refusal("invalid_unit"))
            return None
        if unit is None:
            form.credit_unit.errors.append(_refusal("invalid_pack"))
            return None
        try:
            fields["credit_amount"] = catalog.parse_amount(form.credit_amount.data, unit,
                                                           locale())
        except CatalogRefused as exc:
            form.credit_amount.errors.append(_refusal(exc.code, unit=unit))
            return None
        fields["credit_unit"] = unit
    return fields if ok else None


_FIELD_OF_CODE = {"name_required": "name", "name_too_long": "name",
                  "description_too_long": "description", "invalid_amount": "price",
                  "invalid_currency": "currency", "currency_not_offered": "currency",
                  "invalid_pack": "credit_amount", "invalid_unit": "credit_unit"}


def _show_refusal(form: ProductForm, exc: CatalogRefused) -> str | None:
    """Put the catalog's refusal on its field; the page-wide message when it has none."""
    message = _refusal(exc.code, currency=form.currency.data,
                       unit=(form.credit_unit.data or None))
    if name := _FIELD_OF_CODE.get(exc.code):
        getattr(form, name).errors.append(message)
        return None
    return message


@bp.get("/<seller_id>/products")
@member_page(Permission.VIEW)
def products():
    """The seller's products: those for sale first, archived ones apart."""
    rows = db.session.scalars(db.select(Product).where(Product.seller_id == current_seller().id)
                              .order_by(Product.name, Product.id)).all()
    counts = catalog.order_counts(rows)
    return render_template("console/products.html",
                           active=[p for p in rows if p.active],
                           archived=[p for p in rows if not p.active],
                           counts=counts, money=money, units_text=units_text,
                           confirm=ConfirmForm())


def _page(form, product=None, error=None, status=200):
    currency = form.currency.data if form.currency.data in CURRENCY_EXPONENTS else "EUR"
    example = catalog.amount_text(1450, currency, locale())
    return render_template("console/products_form.html", form=form, product=product,
                           error=error, price_example=example,
                           has_orders=product is not None and catalog.has_orders(product)), status


@bp.route("/<seller_id>/products/new", methods=["GET", "POST"])
@member_page(Permission.PRODUCTS)
def product_new():
    form = _form_for(None)
    if not form.is_submitted():
        return _page(form)
    form.validate()
    if (fields := _fields_of(form)) is None:
        return _page(form, status=400)
    try:
        product = catalog.create_product(current_seller(), actor=console_actor(), **fields)
    except CatalogRefused as exc:
        db.session.rollback()
        return _page(form, error=_show_refusal(form, exc), status=400)
    db.session.commit()
    flash(_("Product “%(name)s” added.", name=product.name), "success")
    return redirect(url_for("console.products"), 303)


@bp.route("/<seller_id>/products/<product_id>", methods=["GET", "POST"])
@member_page(Permission.PRODUCTS)
def product_edit(product_id: str):
    product = seller_object(Product, product_id)
    form = _form_for(product)
    if not form.is_submitted():
        return _page(form, product)
    form.validate()
    if (fields := _fields_of(form)) is None:
        return _page(form, product, status=400)
    try:
        changes = catalog.update_product(product, actor=console_actor(), **fields)
    except CatalogRefused as exc:
        db.session.rollback()
        product = seller_object(Product, product_id)
        return _page(form, product, error=_show_refusal(form, exc),
                     status=409 if exc.http_status == 409 else 400)
    db.session.commit()
    if changes:
        flash(_("Product “%(name)s” saved. Orders already made keep their amounts.",
                name=product.name), "success")
    else:
        flash(_("Nothing changed."), "success")
    return redirect(url_for("console.products"), 303)


@bp.post("/<seller_id>/products/<product_id>/archive")
@member_page(Permission.PRODUCTS)
def product_archive(product_id: str):
    """Stop selling a product (its orders keep it); it can be brought back."""
    product = seller_object(Product, product_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("console.products"), 303)
    catalog.set_archived(product, True, actor=console_actor())
    db.session.commit()
    flash(_("Product “%(name)s” archived: buyers can no longer buy it.", name=product.name),
          "success")
    return redirect(url_for("console.products"), 303)


@bp.post("/<seller_id>/products/<product_id>/unarchive")
@member_page(Permission.PRODUCTS)
def product_unarchive(product_id: str):
    product = seller_object(Product, product_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("console.products"), 303)
    catalog.set_archived(product, False, actor=console_actor())
    db.session.commit()
    flash(_("Product “%(name)s” is for sale again.", name=product.name), "success")
    return redirect(url_for("console.products"), 303)


@bp.route("/<seller_id>/products/<product_id>/delete", methods=["GET", "POST"])
@member_page(Permission.PRODUCTS)
def product_delete(product_id: str):
    """Delete a product nobody ordered, after a confirmation; one with orders is refused
    (and offered to be archived)."""
    product = seller_object(Product, product_id)
    form = ConfirmForm()
    error, status = None, 200
    if catalog.has_orders(product):
        error = _refusal("product_sold")
        status = 409 if form.is_submitted() else 200
    elif form.validate_on_submit():
        name = product.name
        try:
            catalog.delete_product(product, actor=console_actor())
        except CatalogRefused as exc:  # ordered since the page was read
            db.session.rollback()
            product = seller_object(Product, product_id)
            error, status = _refusal(exc.code), 409
        else:
            db.session.commit()
            flash(_("Product “%(name)s” deleted.", name=name), "success")
            return redirect(url_for("console.products"), 303)
    return render_template("console/products_delete.html", product=product, form=form,
                           error=error, money=money), status
