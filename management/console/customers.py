"""The console's customers: the buyers of this seller — who ordered from it (by the email
of their orders) or hold credit with it (by their email) —, searched by email, by keyset
pages; a customer's orders here and credit here, and granting or taking back credit with
a reason, after a confirmation.

A customer is named by email (``/customers/<email>``), only as this seller knows them:
an email that never ordered here nor holds credit here is not found, whoever it is
elsewhere. Credit follows the person, as in the buy flow and the API: the balance of an
email is that of the buyer it belongs to (``buyer_by_email``).

Each grant or debit form carries a random key, rendered with it and kept through the
confirmation; the ledger moves units once per key (``console:<key>``), so a form sent
twice — a double click, a reload, two tabs — moves nothing twice."""

from __future__ import annotations

import re
import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import null, union_all
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import BuildError
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from buyflow import catalog
from buyflow.audit import record_action, recorded
from buyflow.buyers.identity import buyer_by_email, buyer_for_email, normalized_email
from buyflow.catalog import CatalogRefused
from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.ledger.book import LedgerError
from buyflow.models import Buyer, LedgerAccount, LedgerTransaction, Order
from buyflow.people.roles import Permission

from . import bp
from .access import console_actor, current_seller, member_page
from .products import UNIT_RULE, money, units_text

PAGE_SIZE = 25
ORDERS_PAGE_SIZE = 20
HISTORY_PAGE_SIZE = 20
MAX_REASON_CHARS = 500
KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# A credit movement as the seller's team reads it (ledger/book.py's KINDS).
CREDIT_KINDS = {
    "grant": _l("Granted"),
    "debit": _l("Taken back"),
    "hold": _l("Reserved for an order"),
    "capture": _l("Spent on an order"),
    "release": _l("Given back: order not paid"),
    "refund": _l("Refunded as credit"),
}


def locale() -> str:
    return str(get_locale())


# Who the customers are --------------------------------------------------------------------

def _customer_rows(seller):
    """(email, order id, order time) for each of the seller's orders, and (email, None,
    None) for each buyer holding a credit account with it."""
    orders = db.select(Order.buyer_email.label("email"), Order.id.label("order_id"),
                       Order.created_at.label("at")).where(Order.seller_id == seller.id)
    credit = (db.select(Buyer.email.label("email"), null().label("order_id"),
                        null().label("at"))
              .join(LedgerAccount, LedgerAccount.buyer_id == Buyer.id)
              .where(LedgerAccount.seller_id == seller.id, LedgerAccount.kind == book.BUYER))
    return union_all(orders, credit).subquery()


def customer_page(seller, search: str | None, after: str | None, size: int):
    """The seller's customers (email, orders, last order time) by email, those after
    ``after``, whose email contains ``search``."""
    rows = _customer_rows(seller)
    query = (db.select(rows.c.email, db.func.count(rows.c.order_id), db.func.max(rows.c.at))
             .group_by(rows.c.email).order_by(rows.c.email).limit(size))
    if search:
        query = query.where(rows.c.email.contains(search.lower(), autoescape=True))
    if after:
        query = query.where(rows.c.email > after)
    return db.session.execute(query).all()


def is_customer(seller, email: str) -> bool:
    """Whether ``email`` ordered from ``seller`` or is the email of a buyer holding credit
    with it."""
    ordered = db.exists().where(Order.seller_id == seller.id, Order.buyer_email == email)
    holds = db.exists().where(LedgerAccount.seller_id == seller.id,
                              LedgerAccount.kind == book.BUYER,
                              LedgerAccount.buyer_id == Buyer.id, Buyer.email == email)
    return bool(db.session.scalar(db.select(ordered))
                or db.session.scalar(db.select(holds)))


def balances_here(seller, buyer: Buyer | None) -> list[book.Balance]:
    if buyer is None:
        return []
    return [b for b in book.balances_of(buyer) if b.seller.id == seller.id]


def balances_by_email(seller, emails: list[str]) -> dict[str, list[tuple[str, int]]]:
    """The credit of the buyers whose email is one of ``emails``, with ``seller``."""
    if not emails:
        return {}
    found: dict[str, list[tuple[str, int]]] = {}
    for email, unit, amount in db.session.execute(
            db.select(Buyer.email, LedgerAccount.unit, LedgerAccount.balance)
            .join(LedgerAccount, LedgerAccount.buyer_id == Buyer.id)
            .where(LedgerAccount.seller_id == seller.id, LedgerAccount.kind == book.BUYER,
                   Buyer.email.in_(emails))
            .order_by(Buyer.email, LedgerAccount.unit)):
        found.setdefault(email, []).append((unit, amount))
    return found


def _customer_or_404(email: str) -> str:
    """``email`` as orders keep it, when it is the current seller's customer; else 404.
    (A deleted account's orders keep a placeholder no validator takes: as it is.)"""
    email = normalized_email(email) or email.strip().lower()
    if not is_customer(current_seller(), email):
        abort(404)
    return email


def order_url(order: Order) -> str | None:
    """The console's page of ``order``, when the console has one."""
    try:
        return url_for("console.order_detail", order_id=order.public_id)
    except BuildError:
        return None


# Forms ------------------------------------------------------------------------------------

class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search: it changes nothing

    q = StringField(_l("Email contains"), validators=[Optional(), Length(max=320)])


class CreditForm(FlaskForm):
    """A grant or a debit: the unit, the amount (in major units for a currency), the
    reason, and the form's once-only key. Two of them on a page, by prefix: the CSRF
    token is the page's ``csrf_token`` field, checked by the app's CSRFProtect."""

    class Meta:
        csrf = False

    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=40)])
    amount = StringField(_l("Amount"), validators=[DataRequired(), Length(max=40)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(),
                                                     Length(max=MAX_REASON_CHARS)])
    key = HiddenField(validators=[DataRequired(), Regexp(KEY)])
    confirmed = HiddenField()


def _new_form(prefix: str, seller) -> CreditForm:
    """An empty form with a fresh key (a GET: nothing is read from the request)."""
    form = CreditForm(formdata=None, prefix=prefix)
    form.key.data = secrets.token_urlsafe(16)
    form.unit.data = seller.currencies[0] if seller.currencies else "EUR"
    return form


def _unit_choices(seller, balances) -> list[str]:
    """Units to suggest: the customer's, the seller's currencies and its packs' units."""
    packs = db.session.scalars(db.select(catalog.Product.credit_unit).distinct().where(
        catalog.Product.seller_id == seller.id, catalog.Product.credit_unit.is_not(None))
        .order_by(catalog.Product.credit_unit))
    units = [b.unit for b in balances] + list(seller.currencies or []) + list(packs)
    return list(dict.fromkeys(units))


# Pages ------------------------------------------------------------------------------------

@bp.get("/<seller_id>/customers")
@member_page(Permission.VIEW)
def customers():
    """The seller's customers by email, a page at a time (``after`` an email)."""
    seller = current_seller()
    form = SearchForm(request.args)
    if not form.validate():
        return render_template("console/customers.html", form=form, rows=[], balances={},
                               next_after=None, units_text=units_text), 400
    after = request.args.get("after") or None
    rows = customer_page(seller, form.q.data or None, after, PAGE_SIZE + 1)
    page = rows[:PAGE_SIZE]
    next_after = page[-1][0] if len(rows) > PAGE_SIZE else None
    return render_template("console/customers.html", form=form, rows=page,
                           balances=balances_by_email(seller, [r[0] for r in page]),
                           next_after=next_after, after=after, units_text=units_text)


def _detail(email: str, grant=None, debit=None, error=None, status=200):
    seller = current_seller()
    buyer = buyer_by_email(email)
    balances = balances_here(seller, buyer)
    before_order = request.args.get("orders_before")
    orders_query = db.select(Order).where(Order.seller_id == seller.id,
                                          Order.buyer_email == email)
    if before_order:
        cursor = db.session.scalar(orders_query.with_only_columns(Order.id)
                                   .where(Order.public_id == before_order))
        if cursor is None:
            abort(404)
        orders_query = orders_query.where(Order.id < cursor)
    orders = db.session.scalars(orders_query.order_by(Order.id.desc())
                                .limit(ORDERS_PAGE_SIZE + 1)).all()
    history_before = None
    if before_tx := request.args.get("history_before"):
        history_before = db.session.scalar(db.select(LedgerTransaction.id).where(
            LedgerTransaction.public_id == before_tx, LedgerTransaction.seller_id == seller.id,
            LedgerTransaction.buyer_id == (buyer.id if buyer else None)))
        if history_before is None:
            abort(404)
    history = (book.history(seller, buyer, before_id=history_before,
                            limit=HISTORY_PAGE_SIZE + 1) if buyer else [])
    return render_template(
        "console/customers_detail.html", email=email, customer=buyer, balances=balances,
        orders=orders[:ORDERS_PAGE_SIZE],
        next_orders=orders[ORDERS_PAGE_SIZE - 1].public_id if len(orders) > ORDERS_PAGE_SIZE
        else None,
        history=history[:HISTORY_PAGE_SIZE],
        next_history=history[HISTORY_PAGE_SIZE - 1].public_id
        if len(history) > HISTORY_PAGE_SIZE else None,
        grant=grant or _new_form("grant", seller), debit=debit or _new_form("debit", seller),
        units=_unit_choices(seller, balances), error=error, money=money,
        units_text=units_text, order_url=order_url,
        credit_kind=lambda kind: str(CREDIT_KINDS.get(kind, kind))), status


@bp.get("/<seller_id>/customers/<email>")
@member_page(Permission.VIEW)
def customer_detail(email: str):
    return _detail(_customer_or_404(email))


KINDS = {"grant": book.grant, "debit": book.debit}


def _refusal(code: str, unit: str | None = None, balance: int | None = None) -> str:
    if code == "insufficient_credit":
        return _("The customer has %(balance)s: you cannot take back more than that.",
                 balance=units_text(balance or 0, unit))
    if code == "idempotency_key_reused":
        return _("This form was already used for another movement. Nothing was moved: "
                 "fill in the new form below.")
    if code == "invalid_unit":
        return str(UNIT_RULE)
    if code == "too_many_decimals":
        return _("An amount of %(unit)s has at most %(count)d decimals.", unit=unit,
                 count=catalog.unit_exponent(unit))
    return _("Enter a positive amount, like %(example)s.",
             example=catalog.amount_text(1450 if not (unit or "").startswith("points:")
                                         else 100, unit or "EUR", locale()))


def _movement_of(form: CreditForm) -> tuple[str, int] | None:
    """The unit and amount (minor units) a validated form asks for, or None with the
    errors put on its fields."""
    try:
        unit = book.valid_unit(form.unit.data.strip())
    except LedgerError as exc:
        form.unit.errors.append(_refusal(exc.code))
        return None
    try:
        amount = catalog.parse_amount(form.amount.data, unit, locale())
    except CatalogRefused as exc:
        form.amount.errors.append(_refusal(exc.code, unit=unit))
        return None
    return unit, amount


def _earlier(seller, key: str) -> LedgerTransaction | None:
    return db.session.scalar(db.select(LedgerTransaction).filter_by(
        seller_id=seller.id, idempotency_key=key))


def _same(transaction: LedgerTransaction, kind: str, buyer: Buyer, unit: str,
          amount: int) -> bool:
    return (transaction.kind, transaction.buyer_id, transaction.unit,
            abs(transaction.amount)) == (kind, buyer.id, unit, amount)


@bp.post("/<seller_id>/customers/<email>/credit/<any(grant, debit):kind>")
@member_page(Permission.CUSTOMERS)
def customer_credit(email: str, kind: str):
    """Grant (``grant``) or take back (``debit``) credit: the form, then its confirmation,
    then the movement — once per form, however often it is sent."""
    email = _customer_or_404(email)
    seller = current_seller()
    form = CreditForm(prefix=kind)
    other = {"grant": None, "debit": None}
    other[kind] = form
    if not form.validate() or (movement := _movement_of(form)) is None:
        error = None
        if form.key.errors:  # a forged or broken form: a fresh one, nothing kept
            other[kind] = _new_form(kind, seller)
            error = _("This form was not sent whole. Nothing was moved: fill it in again.")
        return _detail(email, **other, error=error, status=400)
    unit, amount = movement
    reason = form.reason.data.strip()
    key = f"console:{form.key.data}"
    known = buyer_by_email(email)
    detail_url = url_for("console.customer_detail", email=email)
    if known is not None and known.deleted_at is not None:
        return _detail(email, error=_("This customer deleted their Buyflow account: their "
                                      "credit can no longer move."), status=409)
    done = _earlier(seller, key)
    if done is not None:
        if known is not None and _same(done, kind, known, unit, amount):
            flash(_("This was already done; nothing moved twice."), "success")
            return redirect(detail_url, 303)
        other[kind] = _new_form(kind, seller)
        return _detail(email, **other, error=_refusal("idempotency_key_reused"), status=409)
    if form.confirmed.data != "yes":
        return render_template("console/customers_confirm.html", form=form, kind=kind,
                               email=email, unit=unit, amount=amount,
                               balance=book.balance(seller, known, unit) if known else 0,
                               amount_text=catalog.amount_text(amount, unit, locale()),
                               units_text=units_text)
    try:
        buyer = known or buyer_for_email(email)  # its buyer is gone: made, as the API does
        transaction = KINDS[kind](seller, buyer, unit, amount, idempotency_key=key,
                                  reason=reason, actor=str(console_actor()))
        action = f"credit.{'granted' if kind == 'grant' else 'debited'}"
        if recorded(action, transaction.public_id):  # the same form, just sent, was first
            db.session.rollback()
            flash(_("This was already done; nothing moved twice."), "success")
            return redirect(detail_url, 303)
        after = book.balance(seller, buyer, unit)
        record_action(action, transaction.public_id, actor=console_actor(), seller=seller,
                      buyer=buyer, before={"unit": unit, "balance": after - transaction.amount},
                      after={"unit": unit, "balance": after}, reason=reason, amount=amount)
        db.session.commit()
    except LedgerError as exc:
        db.session.rollback()
        if exc.code == "insufficient_credit":
            form.amount.errors.append(_refusal(exc.code, unit=unit, balance=book.balance(
                seller, known, unit) if known else 0))
            return _detail(email, **other, status=409)
        other[kind] = _new_form(kind, seller)
        return _detail(email, **other, error=_refusal(exc.code), status=409)
    except IntegrityError:  # the same form, sent at the same moment, was first
        db.session.rollback()
        if _earlier(seller, key) is None:
            raise
        flash(_("This was already done; nothing moved twice."), "success")
        return redirect(detail_url, 303)
    if kind == "grant":
        flash(_("%(amount)s granted to %(email)s.", amount=units_text(amount, unit),
                email=email), "success")
    else:
        flash(_("%(amount)s taken back from %(email)s.", amount=units_text(amount, unit),
                email=email), "success")
    return redirect(detail_url, 303)
