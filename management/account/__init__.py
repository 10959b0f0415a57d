"""A buyer's account: everything bought through Buyflow, across every seller."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import union_all
from sqlalchemy.orm import joinedload, selectinload

from buyflow.buyers.identity import verified_emails
from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import Order
from buyflow.models.orders import PURCHASED
from buyflow.models.requests import RefundRequestStatus
from buyflow.money import Money, format_money
from buyflow.i18n import zoned_datetime
from buyflow.refund_requests import (
    RefundRequestRefused,
    current_request,
    open_request,
    refusal_to_ask,
    withdraw,
)

from ..auth.sessions import buyer_required, current_buyer
from .forms import ConfirmForm
from .refund_requests import RefundRequestForm, last_answer, refusal_message

bp = Blueprint("account", __name__, url_prefix="/account")

PAGE_SIZE = 20


def _buyers_orders():
    """The signed-in buyer's orders: those bought with any of their verified emails (an
    unverified one never counts)."""
    return db.select(Order).where(Order.buyer_email.in_(verified_emails(current_buyer())))


def _newest_order_ids(before_id: int | None, count: int):
    """The ids of the buyer's ``count`` newest purchases older than ``before_id`` (orders
    paid, refunded or not: attempts never paid are no purchase). One short backward walk
    of the purchases' partial (buyer_email, id) index per email, merged: an IN over the
    emails would read every order of every email and sort them, however long the
    history."""
    per_email = []
    for email in verified_emails(current_buyer()):
        query = db.select(Order.id).where(Order.buyer_email == email, db.text(PURCHASED))
        if before_id is not None:
            query = query.where(Order.id < before_id)
        newest = query.order_by(Order.id.desc()).limit(count).subquery()
        per_email.append(db.select(newest.c.id))
    return union_all(*per_email)


def money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), str(get_locale()))


@bp.app_template_filter("when")
def _when(moment) -> str:
    """A date and time as the page's language writes it, with its time zone."""
    return zoned_datetime(moment, str(get_locale())) if moment else ""


@bp.get("/")
@buyer_required
def purchases():
    """The buyer's orders, newest first, a page at a time (keyset: ``after`` an order)."""
    after_id = None
    if after := request.args.get("after"):
        after_id = db.session.scalar(_buyers_orders().where(Order.public_id == after)
                                     .with_only_columns(Order.id))
        if after_id is None:
            abort(404)
    orders = db.session.scalars(
        db.select(Order).where(Order.id.in_(_newest_order_ids(after_id, PAGE_SIZE + 1)))
        .options(selectinload(Order.items), joinedload(Order.seller))
        .order_by(Order.id.desc()).limit(PAGE_SIZE + 1)
    ).all()
    page = orders[:PAGE_SIZE]
    next_after = page[-1].public_id if len(orders) > PAGE_SIZE else None
    return render_template("account/purchases.html", orders=page, next_after=next_after,
                           money=money)


def _buyers_order_or_404(order_id: str) -> Order:
    order = db.session.scalar(_buyers_orders().filter_by(public_id=order_id))
    if order is None:
        abort(404)
    return order


@bp.route("/orders/<order_id>", methods=["GET", "POST"])
@buyer_required
def order_detail(order_id: str):
    """One of the buyer's orders with its payments, refunds and refund requests, where
    the buyer can ask for a refund (again, after a decline); another's order is not
    found."""
    order = _buyers_order_or_404(order_id)
    form = RefundRequestForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            open_request(order, current_buyer(), form.reason.data, form.refund_to.data)
        except RefundRequestRefused as exc:
            db.session.rollback()
            error, status = refusal_message(exc.code), 409
        else:
            db.session.commit()
            return redirect(url_for("account.order_detail", order_id=order_id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "account/order.html", order=order, money=money, form=form, error=error,
        current_request=current_request(order),
        can_ask=refusal_to_ask(order) is None,
        last_answer=last_answer(order)), status


@bp.route("/orders/<order_id>/refund-requests/<request_id>/withdraw",
          methods=["GET", "POST"])
@buyer_required
def withdraw_refund_request(order_id: str, request_id: str):
    """Ask, then withdraw the buyer's open refund request of their order."""
    order = _buyers_order_or_404(order_id)
    asked = next((r for r in order.refund_requests if r.public_id == request_id), None)
    if asked is None:
        abort(404)
    if asked.status != RefundRequestStatus.OPEN:
        flash(refusal_message("refund_request_not_open"), "error")
        return redirect(url_for("account.order_detail", order_id=order_id))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            withdraw(asked, current_buyer())
        except RefundRequestRefused as exc:
            db.session.rollback()
            flash(refusal_message(exc.code), "error")
        else:
            db.session.commit()
            flash(_("You withdrew your refund request."))
        return redirect(url_for("account.order_detail", order_id=order_id))
    return render_template("account/withdraw_refund_request.html", order=order,
                           asked=asked, form=form)


from . import cards  # noqa: E402,F401  (its views join this blueprint)
from . import deletion  # noqa: E402,F401
from . import emails  # noqa: E402,F401  (its views are on this blueprint)
from . import settings  # noqa: E402,F401


@bp.get("/credits")
@buyer_required
def credits():
    """What the buyer holds with each shop: credit to spend in its buy flow, points."""
    return render_template("account/credits.html",
                           balances=book.balances_of(current_buyer()), money=money)
