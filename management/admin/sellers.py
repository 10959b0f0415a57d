"""The operator admin's sellers: the list (by status, searched by name, a page at a time),
each seller's facts (status, origins, team, counts, recent audit entries), and approving,
suspending (with a reason) and reinstating it. The rules are in
``buyflow/sellers/status.py``; a seller that is not active is refused by its flow and
its API there."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from buyflow.extensions import db
from buyflow.models import (
    AuditEntry,
    Membership,
    Order,
    Product,
    Seller,
    SellerApiKey,
    WebhookEndpoint,
)
from buyflow.models.sellers import SellerStatus
from buyflow.people.memberships import members_of
from buyflow.sellers.status import (
    REASON_MAX_LENGTH,
    SellerStatusRefused,
    approve,
    refusal_message,
    reinstate,
    suspend,
)

from . import bp
from .access import operator_actor, operator_page
from .people import actor_label

PAGE_SIZE = 50
RECENT_ENTRIES = 20

SELLER_STATUSES = {
    SellerStatus.PENDING: _l("Waiting for approval"),
    SellerStatus.ACTIVE: _l("Active"),
    SellerStatus.SUSPENDED: _l("Suspended"),
}
# The badge of each status (its words say it too: never the colour alone).
STATUS_BADGES = {SellerStatus.PENDING: "pending", SellerStatus.ACTIVE: "succeeded",
                 SellerStatus.SUSPENDED: "failed"}


def seller_status(status: str) -> str:
    return str(SELLER_STATUSES.get(status, status))


class SuspendForm(FlaskForm):
    reason = TextAreaField(
        _l("Why (its team reads it; buyers never do)"),
        validators=[DataRequired(message=_l("Say why the seller is suspended: its team will "
                                            "read it.")),
                    Length(max=REASON_MAX_LENGTH)])


class ConfirmForm(FlaskForm):
    """A button's form: its CSRF token only."""


def _seller_or_404(seller_id: str) -> Seller:
    seller = db.session.scalar(db.select(Seller).filter_by(public_id=seller_id))
    if seller is None:
        abort(404)
    return seller


@bp.get("/sellers")
@operator_page
def sellers():
    """Every seller, newest first, filtered by ``status`` and searched by name (``q``),
    a page at a time (keyset: ``after`` a seller)."""
    status = request.args.get("status", "")
    if status not in SELLER_STATUSES:
        status = ""
    query_text = request.args.get("q", "").strip()[:200]
    select = db.select(Seller)
    if status:
        select = select.where(Seller.status == status)
    if query_text:
        select = select.where(Seller.name.icontains(query_text, autoescape=True))
    if after := request.args.get("after"):
        after_id = db.session.scalar(db.select(Seller.id).filter_by(public_id=after))
        if after_id is None:
            abort(404)
        select = select.where(Seller.id < after_id)
    found = db.session.scalars(select.order_by(Seller.id.desc()).limit(PAGE_SIZE + 1)).all()
    page = found[:PAGE_SIZE]
    next_after = page[-1].public_id if len(found) > PAGE_SIZE else None
    return render_template("admin/sellers.html", sellers=page, next_after=next_after,
                           status=status, query_text=query_text, statuses=SELLER_STATUSES,
                           seller_status=seller_status, badges=STATUS_BADGES)


def _count(model, seller: Seller, *conditions) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(
        model.seller_id == seller.id, *conditions))


def _detail_page(seller: Seller, *, suspend_form: SuspendForm | None = None,
                 error: str | None = None, status: int = 200):
    counts = {
        "members": _count(Membership, seller),
        "products": _count(Product, seller, Product.active),
        "orders": _count(Order, seller),
        "api_keys": _count(SellerApiKey, seller, SellerApiKey.revoked_at.is_(None)),
        "webhook_endpoints": _count(WebhookEndpoint, seller),
    }
    entries = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.seller_id == seller.id)
        .order_by(AuditEntry.id.desc()).limit(RECENT_ENTRIES)).all()
    return render_template(
        "admin/sellers_detail.html", seller=seller, members=members_of(seller),
        counts=counts, entries=entries, suspend_form=suspend_form or SuspendForm(),
        confirm_form=ConfirmForm(), error=error, seller_status=seller_status,
        badges=STATUS_BADGES, actor_label=actor_label), status


@bp.get("/sellers/<seller_id>")
@operator_page
def seller_detail(seller_id: str):
    """One seller's facts, and what an operator may do to it."""
    return _detail_page(_seller_or_404(seller_id))


def _change_status(seller_id: str, change, done: str, form: FlaskForm | None = None):
    """POST → ``change(seller)``, committed with its audit entry, then back to the
    seller's page with ``done``; a refusal is said there (422), nothing changed."""
    seller = _seller_or_404(seller_id)
    form = form or ConfirmForm()
    if not form.validate_on_submit():
        return _detail_page(seller, suspend_form=form if isinstance(form, SuspendForm)
                            else None, error=_("Nothing was changed: check the form below."),
                            status=400)
    try:
        change(seller)
    except SellerStatusRefused as exc:
        db.session.rollback()
        seller = _seller_or_404(seller_id)
        return _detail_page(seller, suspend_form=form if isinstance(form, SuspendForm)
                            else None, error=refusal_message(exc.code), status=422)
    db.session.commit()
    flash(done)
    return redirect(url_for("admin.seller_detail", seller_id=seller_id), 303)


@bp.post("/sellers/<seller_id>/approve")
@operator_page
def seller_approve(seller_id: str):
    return _change_status(seller_id, lambda seller: approve(seller, actor=operator_actor()),
                          _("The seller is approved: buyers can pay it and its API answers."))


@bp.post("/sellers/<seller_id>/suspend")
@operator_page
def seller_suspend(seller_id: str):
    form = SuspendForm()
    return _change_status(
        seller_id, lambda seller: suspend(seller, form.reason.data, actor=operator_actor()),
        _("The seller is suspended: its buy flow and its API refuse until it is "
          "reinstated."), form)


@bp.post("/sellers/<seller_id>/reinstate")
@operator_page
def seller_reinstate(seller_id: str):
    return _change_status(seller_id, lambda seller: reinstate(seller, actor=operator_actor()),
                          _("The seller is active again: buyers can pay it and its API "
                            "answers."))
