"""The refund requests' queue in the console: buyers' requests, the open ones first (the
queue's default filter), a request's page, and the answers — approve (the order
refunded in full, to where the buyer asked, through the order page's refund path and
its once-only submissions; the request is closed by the money core's
``refund.succeeded``, as any refund of the order closes it) or decline with a reason
(mailed to the buyer in the language they bought in). The rules are
``buyflow/refund_requests``'."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from buyflow import refund_requests
from buyflow.audit import record_action
from buyflow.extensions import db
from buyflow.models import Order, Refund, RefundRequest
from buyflow.models.requests import RefundRequestStatus
from buyflow.payments.balance import amount_paid, refundable_amount, refunded_amount
from buyflow.people.roles import Permission

from . import bp
from .access import console_actor, current_seller, member_page
from .order_detail import (
    DESTINATIONS,
    REQUEST_STATUSES,
    money,
    outcome_response,
    refund_once,
    refused_message,
    render_confirm,
    replayed_message,
)
from . import submissions

PAGE_SIZE = 20
FILTERS = ("open", "all", "refunded", "declined", "withdrawn")

QUEUE_REFUSALS = {
    "invalid_status": _l("Choose one of the statuses offered."),
    "invalid_cursor": _l("This page of the list no longer exists. Start again from the "
                         "first page."),
}
DECLINE_REFUSALS = {
    "reason_required": _l("Say why you decline: the buyer reads it."),
    "reason_too_long": _l("The reason can be at most %(max)d characters."),
    "refund_request_not_open": _l("This refund request is no longer open: it was "
                                  "answered, or the buyer withdrew it."),
    "already_refunded": _l("This order was already refunded in full."),
}


class ApproveForm(FlaskForm):
    """Approve: the order refunded in full to where the buyer asked, once (``seen``: what
    could be refunded when the page was shown)."""

    submission = HiddenField()
    seen = HiddenField()
    confirmed = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="approve", **kwargs)

    def validate_submission(self, field):
        if not submissions.valid_key(field.data):
            raise ValidationError(str(submissions.STALE_FORM))

    def validate_seen(self, field):
        if not (field.data or "").isdigit():
            raise ValidationError(str(submissions.STALE_FORM))

    def hidden_errors(self) -> list[str]:
        return list(dict.fromkeys(self.submission.errors + self.seen.errors))


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why you decline (the buyer reads it)"), validators=[
        DataRequired(message=DECLINE_REFUSALS["reason_required"]),
        Length(max=refund_requests.REASON_MAX_LENGTH,
               message=_l("The reason can be at most %(max)d characters."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="decline", **kwargs)


def _new_approve_form(order: Order) -> ApproveForm:
    form = ApproveForm(formdata=None)
    form.submission.data = submissions.new_key()
    form.seen.data = str(refundable_amount(order))
    return form


def _sellers_request(request_id: str) -> RefundRequest:
    try:
        return refund_requests.request_of_seller(current_seller(), request_id)
    except refund_requests.RefundRequestRefused:
        abort(404)


@bp.get("/<seller_id>/refund-requests", endpoint="refund_requests")
@member_page(Permission.VIEW)
def queue():
    """The seller's refund requests, newest first, those in the chosen status (open by
    default), a page at a time (keyset: ``after`` a request)."""
    chosen = request.args.get("status") or "open"
    error, page = None, None
    if chosen not in FILTERS:
        error = str(QUEUE_REFUSALS["invalid_status"])
    else:
        try:
            page = refund_requests.requests_of_seller(
                current_seller(), None if chosen == "all" else chosen,
                request.args.get("after") or None, PAGE_SIZE)
        except refund_requests.RefundRequestRefused as exc:
            error = str(QUEUE_REFUSALS.get(exc.code, QUEUE_REFUSALS["invalid_status"]))
    asked = page.requests if page else []
    if asked:  # their orders in one query: each request's ``order`` is then at hand
        db.session.scalars(db.select(Order).where(Order.id.in_({r.order_id for r in asked})))
    open_count = db.session.scalar(
        db.select(db.func.count(RefundRequest.id)).join(Order)
        .where(Order.seller_id == current_seller().id,
               RefundRequest.status == RefundRequestStatus.OPEN))
    return render_template(
        "console/refund_requests.html", asked=asked, page=page, chosen=chosen,
        filters=FILTERS, error=error, open_count=open_count, money=money,
        statuses=REQUEST_STATUSES, destinations=DESTINATIONS,
        first_page=request.args.get("after") is None), 400 if error else 200


def render_request(asked: RefundRequest, approve_form: ApproveForm | None = None,
                   decline_form: DeclineForm | None = None, error: str | None = None,
                   status: int = 200):
    order = asked.order
    return render_template(
        "console/refund_request_detail.html", asked=asked, order=order, money=money,
        paid=amount_paid(order), refunded=refunded_amount(order),
        refundable=refundable_amount(order),
        approve_form=approve_form or _new_approve_form(order),
        decline_form=decline_form or DeclineForm(formdata=None), error=error,
        statuses=REQUEST_STATUSES, destinations=DESTINATIONS,
        is_open=asked.status == RefundRequestStatus.OPEN), status


@bp.get("/<seller_id>/refund-requests/<request_id>")
@member_page(Permission.VIEW)
def refund_request_detail(request_id: str):
    """One request: the buyer's reason, where they want the money, the order's amounts,
    and (while it is open) the answers."""
    return render_request(_sellers_request(request_id))


@bp.post("/<seller_id>/refund-requests/<request_id>/approve")
@member_page(Permission.REFUND_REQUESTS)
def refund_request_approve(request_id: str):
    """Approve: the confirmation step (what will be refunded, where), then the refund of
    all that can still be refunded, to where the buyer asked, once."""
    asked = _sellers_request(request_id)
    order = asked.order
    form = ApproveForm()
    if not form.validate_on_submit():
        return render_request(asked, approve_form=form, status=400)
    back = url_for("console.refund_request_detail", request_id=asked.public_id)
    if (done := submissions.peek(current_seller(), form.submission.data)) is not None:
        # Sent and done before (a second press, back and resubmit): shown, not redone.
        flash(replayed_message(db.session.scalar(db.select(Refund).filter_by(
            public_id=done.resource, order_id=order.id))), "success")
        return redirect(back, 303)
    if asked.status != RefundRequestStatus.OPEN:
        return render_request(asked, error=refused_message("refund_request_not_open", order),
                              status=409)
    destination = asked.refund_to
    shown = refundable_amount(order)

    def confirm(error=None, can_retry=True, status=200):
        return render_confirm(
            order, form=form, action_url=url_for("console.refund_request_approve",
                                                 request_id=asked.public_id),
            heading=_("Approve the refund request and refund %(amount)s?",
                      amount=money(shown, order.currency)),
            intro=_("The buyer asked for a refund of order %(id)s: all that can still be "
                    "refunded goes back where they asked.", id=order.public_id),
            button=_("Approve and refund %(amount)s", amount=money(shown, order.currency)),
            cancel_url=back, amount=shown, destination=destination, error=error,
            can_retry=can_retry, status=status)

    if form.confirmed.data != "yes":
        if shown <= 0:
            return render_request(asked, error=refused_message("amount_exceeds_refundable",
                                                               order), status=422)
        return confirm()

    def still_open(locked_order: Order) -> None:
        db.session.refresh(asked)
        if asked.status == RefundRequestStatus.REFUNDED:
            raise refund_requests.RefundRequestRefused("already_refunded")
        if asked.status != RefundRequestStatus.OPEN:
            raise refund_requests.RefundRequestRefused("refund_request_not_open")

    def audit(refund) -> None:
        record_action("refund_request.approved", asked.public_id, actor=console_actor(),
                      seller=current_seller(), order=order.public_id,
                      refund=refund.public_id, amount=refund.amount,
                      currency=refund.currency, refund_to=destination)

    outcome = refund_once(order, key=form.submission.data, amount=None,
                          reason=f"refund request {asked.public_id}",
                          destination=destination, seen=int(form.seen.data),
                          action="refund_request_approve", check=still_open, audit=audit)
    def refused(code: str, message: str, status: int):
        db.session.refresh(asked)
        return render_request(asked, error=message, status=status)

    return outcome_response(outcome, order, back, confirm, refused)


@bp.post("/<seller_id>/refund-requests/<request_id>/decline")
@member_page(Permission.REFUND_REQUESTS)
def refund_request_decline(request_id: str):
    """Decline an open request with a reason, mailed to the buyer in their language once
    this commits (``refund_requests.decline``, which writes the audit entry and the
    seller's webhook)."""
    asked = _sellers_request(request_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return render_request(asked, decline_form=form, status=400)
    try:
        refund_requests.decline(asked, form.reason.data, console_actor())
    except refund_requests.RefundRequestRefused as exc:
        db.session.rollback()
        message = DECLINE_REFUSALS.get(exc.code, DECLINE_REFUSALS["refund_request_not_open"])
        if exc.code.startswith("reason_"):
            form.reason.errors = [str(message) % {"max": refund_requests.REASON_MAX_LENGTH}]
            return render_request(asked, decline_form=form, status=400)
        return render_request(asked, error=str(message), status=exc.http_status)
    db.session.commit()
    flash(_("You declined the refund request. The buyer is told by email, with your "
            "reason."), "success")
    return redirect(url_for("console.refund_request_detail", request_id=asked.public_id), 303)
