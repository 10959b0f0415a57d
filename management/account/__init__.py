"""A buyer's account: everything bought through Buyflow, across every seller."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import union_all
from sqlalchemy.orm import joinedload, selectinload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from buyflow.buyers.identity import verified_emails
from buyflow.extensions import db
from buyflow.models import Order
from buyflow.money import Money, format_money

from ..auth.sessions import buyer_required, current_buyer
from .refund_requests import REFUNDABLE, RequestRefused, open_request, request_refund

bp = Blueprint("account", __name__, url_prefix="/account")

PAGE_SIZE = 20


def _buyers_orders():
    """The signed-in buyer's orders: those bought with any of their verified emails (an
    unverified one never counts)."""
    return db.select(Order).where(Order.buyer_email.in_(verified_emails(current_buyer())))


def _newest_order_ids(before_id: int | None, count: int):
    """The ids of the buyer's ``count`` newest orders older than ``before_id``. One short
    backward walk of the (buyer_email, id) index per email, merged: an IN over the emails
    would read every order of every email and sort them, however long the history."""
    per_email = []
    for email in verified_emails(current_buyer()):
        query = db.select(Order.id).where(Order.buyer_email == email)
        if before_id is not None:
            query = query.where(Order.id < before_id)
        newest = query.order_by(Order.id.desc()).limit(count).subquery()
        per_email.append(db.select(newest.c.id))
    return union_all(*per_email)


def money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), str(get_locale()))


@bp.app_template_filter("when")
def _when(moment) -> str:
    return format_datetime(moment, "medium") if moment else ""


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


class RefundRequestForm(FlaskForm):
    reason = TextAreaField(_l("Why do you want a refund?"),
                           validators=[DataRequired(), Length(max=1000)])


@bp.route("/orders/<order_id>", methods=["GET", "POST"])
@buyer_required
def order_detail(order_id: str):
    """One of the buyer's orders with its payments and refunds, where the buyer can ask
    for a refund; another's order is not found."""
    order = db.session.scalar(_buyers_orders().filter_by(public_id=order_id))
    if order is None:
        abort(404)
    form = RefundRequestForm()
    status = 200
    if form.validate_on_submit():
        try:
            request_refund(current_buyer(), order, form.reason.data)
        except RequestRefused:
            status = 409
        else:
            return redirect(url_for("account.order_detail", order_id=order_id))
    elif request.method == "POST":
        status = 400
    return render_template("account/order.html", order=order, money=money, form=form,
                           can_request=order.status in REFUNDABLE and not open_request(order),
                           open_request=open_request(order)), status


from . import cards  # noqa: E402,F401  (its views join this blueprint)
from . import deletion  # noqa: E402,F401
from . import emails  # noqa: E402,F401  (its views are on this blueprint)
