"""An order's page in the console: its items, payments and their sources, refunds, refund
requests, its timeline (payment and refund events, audit entries, the webhooks sent
for it with their deliveries); refunding it (in full or in part, to its sources or as
credit, after a confirmation step) and recording an offline payment.

Both money forms go through the API's phases (``buyflow/api/views.py``): the form's
once-only key claimed (``submissions.py``), the refund reserved and the key told of it
in one commit (the recovery point), then executed at the provider. A provider that does
not answer leaves the refund reserved for reconciliation, as the API does, and the page
says so; the same form sent again resumes that refund, never makes a second one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from buyflow.audit import record_action
from buyflow.errors import CodedError
from buyflow.extensions import db
from buyflow.locks import locked
from buyflow.models import (
    AuditEntry,
    Buyer,
    Order,
    Payment,
    PaymentEvent,
    Refund,
    RefundEvent,
    RefundPart,
    SellerApiKey,
    WebhookDelivery,
    WebhookEvent,
)
from buyflow.models.audit import ActorType
from buyflow.models.requests import RefundRequestStatus
from buyflow.money import Money, currency_exponent, format_money
from buyflow.payments import offline
from buyflow.payments.balance import (
    amount_due,
    amount_paid,
    refundable_amount,
    refunded_amount,
)
from buyflow.payments.base import PaymentError
from buyflow.payments.refunds import execute_refund, reserve_refund, spread
from buyflow.payments.states import (
    OrderStatus,
    PaymentSource,
    RefundDestination,
    RefundKind,
    RefundStatus,
)
from buyflow.people.roles import Permission
from buyflow.receipts.content import PAYMENT_METHODS
from buyflow.refund_requests import current_request

from ..account.labels import REFUND_STATUSES
from . import bp, submissions
from .access import console_actor, current_seller, member_page, seller_object

REASON_MAX_LENGTH = 500  # as the API's
TIMELINE_LIMIT = 200  # of each kind: webhook events, audit entries

# The words of the console (a seller's team reads them; buyers' pages say "you").
PAYMENT_STATUSES = {
    "created": _l("Processing"),
    "requires_action": _l("Waiting for the buyer's bank"),
    "authorized": _l("Reserved"),
    "succeeded": _l("Succeeded"),
    "failed": _l("Declined"),
    "canceled": _l("Canceled"),
}
SOURCES = {"stripe": _l("Card"), PaymentSource.CREDIT: _l("Credit"),
           PaymentSource.OFFLINE: _l("Offline")}
DESTINATIONS = {
    RefundDestination.SOURCE: _l("Back to how the buyer paid"),
    RefundDestination.CREDIT: _l("As credit with your shop"),
}
REQUEST_STATUSES = {
    RefundRequestStatus.OPEN: _l("Open"),
    RefundRequestStatus.REFUNDED: _l("Refunded"),
    RefundRequestStatus.DECLINED: _l("Declined"),
    RefundRequestStatus.WITHDRAWN: _l("Withdrawn by the buyer"),
}
DELIVERY_STATUSES = {"pending": _l("Pending"), "delivered": _l("Delivered"),
                     "failed": _l("Failed"), "canceled": _l("Canceled")}


def money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), str(get_locale()))


def parse_amount(text: str, currency: str) -> int:
    """``text`` typed in the page's language ("14.50", "14,50", "1,450") as minor units
    of ``currency``; ValueError when it is not a positive amount with at most the
    currency's digits."""
    locale = str(get_locale())
    try:
        number = parse_decimal(text.strip(), locale, strict=True)
    except NumberFormatError:
        raise ValueError(text) from None
    exponent = currency_exponent(currency)
    if not number.is_finite() or number <= 0 or number.as_tuple().exponent < -exponent:
        raise ValueError(text)
    return int(number.scaleb(exponent))


def amount_example(currency: str) -> str:
    """14.50 in the page's language, with the currency's digits (14,50; 1450; 1.450)."""
    exponent = currency_exponent(currency)
    return format_decimal(Decimal(1450).scaleb(-exponent),
                          format="#,##0" + ("." + "0" * exponent if exponent else ""),
                          locale=str(get_locale()))


def _amount_error(currency: str) -> str:
    return _("Enter an amount such as %(example)s, or leave it empty.",
             example=amount_example(currency))


class RefundForm(submissions.KeyedForm):
    amount = StringField(_l("Amount to refund"), validators=[Optional()])
    reason = TextAreaField(_l("Reason (optional)"), validators=[Length(
        max=REASON_MAX_LENGTH, message=_l("The reason can be at most %(max)d characters."))])
    destination = RadioField(
        _l("Where the money goes"), default=RefundDestination.SOURCE,
        choices=[SelectChoice(value, label) for value, label in DESTINATIONS.items()],
        validate_choice=False)
    # What could be refunded when the page was shown: a page older than another refund
    # is refused rather than refund twice what the person meant once.
    seen = HiddenField()
    confirmed = HiddenField()

    def __init__(self, order: Order, *args, **kwargs):
        super().__init__(*args, prefix="refund", **kwargs)
        self.order = order
        self.minor: int | None = None

    def validate_amount(self, field):
        if field.data and field.data.strip():
            try:
                self.minor = parse_amount(field.data, self.order.currency)
            except ValueError:
                raise ValidationError(_amount_error(self.order.currency)) from None

    def validate_destination(self, field):
        if field.data not in DESTINATIONS:
            raise ValidationError(_("Choose where the money goes."))

    def validate_seen(self, field):
        if not (field.data or "").isdigit():
            raise ValidationError(str(submissions.STALE_FORM))


class OfflinePaymentForm(submissions.KeyedForm):
    method = SelectField(_l("How it was paid"), choices=[
        SelectChoice(method, PAYMENT_METHODS[method]) for method in offline.METHODS],
        validate_choice=False)
    amount = StringField(_l("Amount received"), validators=[Optional()])
    reference = StringField(_l("Reference"), validators=[
        DataRequired(message=_l("Give the payment's reference: the transfer's, the "
                                "invoice number, the receipt…")),
        Length(max=200, message=_l("The reference can be at most 200 characters."))])

    def __init__(self, order: Order, *args, **kwargs):
        super().__init__(*args, prefix="offline", **kwargs)
        self.order = order
        self.minor: int | None = None

    def validate_method(self, field):
        if field.data not in offline.METHODS:
            raise ValidationError(_("Choose how it was paid."))

    def validate_amount(self, field):
        if field.data and field.data.strip():
            try:
                self.minor = parse_amount(field.data, self.order.currency)
            except ValueError:
                raise ValidationError(_amount_error(self.order.currency)) from None


def new_refund_form(order: Order, destination: str | None = None) -> RefundForm:
    """The refund form of a page being rendered: a fresh key, what can be refunded now,
    the money going where the buyer asked in an open request (else to its sources)."""
    form = RefundForm(order, formdata=None)
    asked = current_request(order)
    form.destination.data = destination or (asked.refund_to if asked
                                            else RefundDestination.SOURCE)
    form.submission.data = submissions.new_key()
    form.seen.data = str(refundable_amount(order))
    return form


def new_offline_form(order: Order) -> OfflinePaymentForm:
    form = OfflinePaymentForm(order, formdata=None)
    form.submission.data = submissions.new_key()
    return form


# The order's page.

def _order_loaded(order_id: str) -> Order:
    order = seller_object(Order, order_id)
    return db.session.scalar(db.select(Order).where(Order.id == order.id).options(
        selectinload(Order.items), selectinload(Order.payments).selectinload(Payment.events),
        selectinload(Order.refunds).selectinload(Refund.parts).selectinload(RefundPart.events),
        selectinload(Order.refund_requests)).execution_options(populate_existing=True))


@dataclass
class TimelineEntry:
    when: datetime
    kind: str  # payment, refund, audit, webhook
    title: str
    detail: str = ""
    code: str = ""  # an event type or audit action, shown as code
    deliveries: list = field(default_factory=list)


def _payment_event_entry(payment: Payment, event: PaymentEvent) -> TimelineEntry:
    before = str(PAYMENT_STATUSES.get(event.from_status, event.from_status))
    after = str(PAYMENT_STATUSES.get(event.to_status, event.to_status))
    if event.from_status == event.to_status:
        title = _("Payment %(payment)s: still %(status)s", payment=payment.public_id,
                  status=after)
    else:
        title = _("Payment %(payment)s: %(before)s, then %(after)s",
                  payment=payment.public_id, before=before, after=after)
    return TimelineEntry(event.created_at, "payment", title,
                         money(payment.amount, payment.currency), code=event.action)


def _refund_event_entry(part: RefundPart, event: RefundEvent) -> TimelineEntry:
    title = _("Refund %(refund)s, part %(part)s: %(before)s, then %(after)s",
              refund=part.refund.public_id, part=part.public_id,
              before=str(REFUND_STATUSES.get(event.from_status, event.from_status)),
              after=str(REFUND_STATUSES.get(event.to_status, event.to_status)))
    return TimelineEntry(event.created_at, "refund", title,
                         money(part.amount, part.refund.currency), code=event.action)


def actor_labels(entries) -> dict[tuple[str, str | None], str]:
    """Who made each audit entry, as the seller's team reads it ("By ...")."""
    people_ids = {int(e.actor_id) for e in entries
                  if e.actor_type == ActorType.MEMBER and (e.actor_id or "").isdigit()}
    key_ids = {int(e.actor_id) for e in entries
               if e.actor_type == ActorType.API_KEY and (e.actor_id or "").isdigit()}
    emails = dict(db.session.execute(db.select(Buyer.id, Buyer.email)
                                     .where(Buyer.id.in_(people_ids))).all()) if people_ids else {}
    hints = dict(db.session.execute(db.select(SellerApiKey.id, SellerApiKey.hint).where(
        SellerApiKey.id.in_(key_ids), SellerApiKey.seller_id == current_seller().id)).all()
    ) if key_ids else {}
    labels = {}
    for entry in entries:
        kind, actor_id = entry.actor_type, entry.actor_id
        number = int(actor_id) if (actor_id or "").isdigit() else None
        if kind == ActorType.SYSTEM:
            label = _("By Buyflow")
        elif kind == ActorType.OPERATOR:
            label = _("By a Buyflow operator")
        elif kind == ActorType.API_KEY:
            label = (_("By the API key ending in %(hint)s", hint=hints[number])
                     if number in hints else _("By an API key"))
        elif kind == ActorType.BUYER:
            label = _("By the buyer")
        elif number in emails:
            label = _("By %(email)s", email=emails[number])
        else:
            label = _("By a former member")
        labels[(kind, actor_id)] = label
    return labels


def _audit_entries(order: Order) -> list[AuditEntry]:
    """The audit entries naming the order, its payments, refunds or refund requests: the
    seller's, and those of the buyer's data (a refund request's lifecycle)."""
    subjects = [order.public_id, *(p.public_id for p in order.payments),
                *(r.public_id for r in order.refunds),
                *(r.public_id for r in order.refund_requests)]
    whose = AuditEntry.seller_id == order.seller_id
    if order.buyer_id is not None:
        whose = or_(whose, AuditEntry.buyer_id == order.buyer_id)
    return db.session.scalars(db.select(AuditEntry).where(whose, AuditEntry.subject.in_(
        subjects)).order_by(AuditEntry.id).limit(TIMELINE_LIMIT)).all()


def webhook_events_of(order: Order) -> list[WebhookEvent]:
    """The webhook events sent for ``order``, newest first, with their deliveries."""
    return db.session.scalars(
        db.select(WebhookEvent).where(WebhookEvent.order_id == order.id)
        .options(selectinload(WebhookEvent.deliveries)
                 .joinedload(WebhookDelivery.endpoint))
        .order_by(WebhookEvent.id.desc()).limit(TIMELINE_LIMIT)).all()


def delivery_link() -> Callable | None:
    """A link to a delivery's page in Developers, when that page exists."""
    if "console.developers_delivery" not in current_app.view_functions:
        return None
    return lambda delivery: url_for("console.developers_delivery", delivery_id=delivery.id)


def timeline(order: Order) -> list[TimelineEntry]:
    """What happened to the order, newest first."""
    entries = [_payment_event_entry(p, e) for p in order.payments for e in p.events]
    entries += [_refund_event_entry(part, e) for r in order.refunds for part in r.parts
                for e in part.events]
    audit = _audit_entries(order)
    actors = actor_labels(audit)
    for entry in audit:
        entries.append(TimelineEntry(entry.created_at, "audit",
                                     actors[(entry.actor_type, entry.actor_id)],
                                     entry.reason or "", code=entry.action))
    for event in webhook_events_of(order):
        entries.append(TimelineEntry(event.created_at, "webhook", _("Webhook sent"),
                                     code=event.type, deliveries=event.deliveries))
    return sorted(entries, key=lambda e: e.when, reverse=True)


def render_order(order: Order, refund_form: RefundForm | None = None,
                 offline_form: OfflinePaymentForm | None = None, status: int = 200):
    """The order's page, with the forms as given (sent back with their errors) or new."""
    refundable = refundable_amount(order)
    can_refund, can_record = refundable > 0, order.status == OrderStatus.PENDING
    # A refusal of a form the page no longer shows (nothing left to refund, nothing due)
    # is said at the top.
    page_errors = []
    if refund_form is not None and not can_refund:
        page_errors += refund_form.hidden_errors() + list(refund_form.amount.errors)
    if offline_form is not None and not can_record:
        page_errors += offline_form.hidden_errors()
    return render_template(
        "console/order_detail.html", order=order, money=money, page_errors=page_errors,
        paid=amount_paid(order), refunded=refunded_amount(order), refundable=refundable,
        due=amount_due(order) if order.status == OrderStatus.PENDING else 0,
        refund_form=refund_form or new_refund_form(order),
        offline_form=offline_form or new_offline_form(order),
        can_refund=can_refund, can_record=can_record,
        open_request=current_request(order), timeline=timeline(order),
        delivery_link=delivery_link(), labels={
            "payment": PAYMENT_STATUSES, "source": SOURCES, "destination": DESTINATIONS,
            "delivery": DELIVERY_STATUSES, "refund": REFUND_STATUSES,
            "request": REQUEST_STATUSES},
        refund_kind=RefundKind), status


@bp.get("/<seller_id>/orders/<order_id>")
@member_page(Permission.VIEW)
def order_detail(order_id: str):
    """One of the seller's orders, all there is to know about it; another seller's (or
    none) is not found."""
    return render_order(_order_loaded(order_id))


# Refunding: the confirmation step, then the phases.

@dataclass
class RefundOutcome:
    """How a refund form ended: ``kind`` is done (the work ran to its end, the refund in
    whatever status the provider left it), replayed (the form was sent and done
    before), busy, stale (the form is not ours or too old), refused (a rule: ``code``),
    or provider (its error ``code``: the refund left as the API leaves it)."""

    kind: str
    refund: Refund | None = None
    code: str = ""
    status: int = 200


class Refused(CodedError):
    """A refund the console refuses before reserving it (``order_changed``...)."""

    http_status = 409


def _resumed_refund(order: Order, public_id: str | None) -> Refund | None:
    """The refund an earlier POST of this form reserved, to drive on; None when there is
    none, or when it was released (it never reached the provider: made anew) — as the
    API's ``_resumed_refund``."""
    refund = public_id and db.session.scalar(
        db.select(Refund).filter_by(public_id=public_id, order_id=order.id))
    if not refund or all(part.failure_code == "not_at_provider" for part in refund.parts):
        return None
    return refund


def _refunds_so_far(order: Order) -> int:
    """What refunds of the order give back, reserved or done (not failed)."""
    return sum(part.amount for refund in order.refunds if refund.kind == RefundKind.ORDER
               for part in refund.parts if part.status != RefundStatus.FAILED)


def refund_once(order: Order, *, key: str, amount: int | None, reason: str,
                destination: str, seen: int, action: str,
                check: Callable[[Order], None] | None = None,
                audit: Callable[[Refund], None] | None = None) -> RefundOutcome:
    """Refund ``amount`` of ``order`` (None: all that is left) once for the form ``key``,
    through the money core's phases. ``seen``: what could be refunded when the form's
    page was shown; ``check(order)`` (under the order's lock) may refuse with
    ``Refused``; ``audit(refund)`` adds entries beside ``order.refunded``."""
    seller = current_seller()
    try:
        submission = submissions.claim(seller, key, submissions.fingerprint(
            action, order.public_id, amount, destination, reason))
    except submissions.SubmissionRefused as exc:
        return RefundOutcome("busy" if exc.code == "busy" else "stale",
                             status=409 if exc.code == "busy" else 400)
    if submission.done:
        refund = submission.resource and db.session.scalar(
            db.select(Refund).filter_by(public_id=submission.resource, order_id=order.id))
        return RefundOutcome("replayed", refund or None)
    try:
        refund = _resumed_refund(order, submission.resource)
        if refund is None:
            try:
                order = locked(Order, order.id)
                if refundable_amount(order) != seen:
                    raise Refused("order_changed")
                if check is not None:
                    check(order)
                before = _refunds_so_far(order)
                refund = reserve_refund(order, amount, reason, destination)
            except CodedError as exc:  # RefundRefused, Refused, the check's
                db.session.rollback()
                submissions.forget(submission)
                return RefundOutcome("refused", code=exc.code, status=exc.http_status)
            record_action("order.refunded", order.public_id, actor=console_actor(),
                          seller=seller, before={"refunded": before},
                          after={"refunded": before + refund.amount},
                          reason=reason or None, refund=refund.public_id,
                          amount=refund.amount, currency=refund.currency,
                          destination=refund.destination)
            if audit is not None:
                audit(refund)
            submissions.remember(submission, refund.public_id)
            db.session.commit()  # the recovery point: the amount reserved, the key knows it
        try:
            refund = execute_refund(refund)
        except PaymentError as exc:
            db.session.rollback()
            submissions.release(submission)  # a retry of the form resumes this refund
            refund = db.session.get(Refund, refund.id)
            db.session.refresh(refund)
            return RefundOutcome("provider", refund, code=exc.code,
                                 status=503 if exc.code == "provider_unavailable" else 502)
        if refund.status == RefundStatus.FAILED:  # a retry finding the refusal recorded
            submissions.release(submission)
            return RefundOutcome("provider", refund, code="refund_failed", status=502)
    except Exception:
        db.session.rollback()
        submissions.release(submission)
        raise
    submissions.finish(submission)
    return RefundOutcome("done", refund)


REFUSED = {
    "order_changed": _l("The order changed since this page was shown (another refund or "
                        "payment was made). Look at it again before refunding."),
    "order_not_paid": _l("Only a paid order can be refunded."),
    "refund_request_not_open": _l("This refund request is no longer open: it was "
                                  "answered, or the buyer withdrew it."),
    "already_refunded": _l("This order was already refunded in full."),
}


def refused_message(code: str, order: Order) -> str:
    if code == "amount_exceeds_refundable":
        return _("At most %(amount)s can still be refunded on this order.",
                 amount=money(refundable_amount(order), order.currency))
    return str(REFUSED.get(code, REFUSED["order_changed"]))


def provider_message(outcome: RefundOutcome) -> str:
    refund = outcome.refund
    amount = money(refund.amount, refund.currency)
    if outcome.code == "provider_unavailable":
        return _("The payment provider did not answer. The refund of %(amount)s stays "
                 "reserved: Buyflow completes it, or releases it, when it next checks with "
                 "the provider. You may also try again now: the same refund is continued, "
                 "never made twice.", amount=amount)
    return _("The payment provider refused the refund of %(amount)s: it did not give the "
             "money back.", amount=amount)


def done_message(refund: Refund) -> tuple[str, str]:
    """What a finished refund tells the person, and the flash's category."""
    amount = money(refund.amount, refund.currency)
    if refund.status == RefundStatus.SUCCEEDED:
        return _("Refunded %(amount)s.", amount=amount), "success"
    if refund.status == RefundStatus.PARTIALLY_SUCCEEDED:
        given = sum(p.amount for p in refund.parts if p.status == RefundStatus.SUCCEEDED)
        return _("Only part of the refund went through: %(given)s of %(amount)s. The "
                 "refund's parts show which.", given=money(given, refund.currency),
                 amount=amount), "error"
    return _("The payment provider accepted the refund of %(amount)s and is processing "
             "it.", amount=amount), "success"


def replayed_message(refund: Refund | None) -> str:
    if refund is None:
        return _("This form was sent before and done then. Nothing more was done now.")
    return _("This form was sent before: its refund of %(amount)s was made then. Nothing "
             "more was refunded now.", amount=money(refund.amount, refund.currency))


def confirm_preview(order: Order, amount: int | None, destination: str) -> list[tuple]:
    """What a refund of ``amount`` (None: all) would give back, part by part: (the
    payment, its share, a note)."""
    shares = spread(order, refundable_amount(order) if amount is None else amount)
    preview = []
    for payment, share in shares:
        if destination == RefundDestination.CREDIT:
            note = _("as credit with your shop")
        elif payment.provider == PaymentSource.OFFLINE:
            note = _("you pay it back yourself, the way it was paid")
        elif payment.provider == PaymentSource.CREDIT:
            note = _("back to the buyer's credit with your shop")
        else:
            note = _("back to the card, through the payment provider")
        preview.append((payment, share, note))
    return preview


def render_confirm(order: Order, *, form, action_url: str, heading: str, button: str,
                   cancel_url: str, amount: int, destination: str, reason: str = "",
                   error: str | None = None, can_retry: bool = True, status: int = 200,
                   intro: str | None = None):
    """The confirmation step of a refund: what will happen, and the button doing it (the
    same values and key in hidden fields; a second press is the same submission)."""
    return render_template(
        "console/order_refund_confirm.html", order=order, form=form, action_url=action_url,
        heading=heading, button=button, cancel_url=cancel_url, amount=amount,
        destination=destination, reason=reason, error=error, can_retry=can_retry,
        intro=intro, money=money, preview=confirm_preview(order, amount, destination),
        destination_label=str(DESTINATIONS[destination])), status


def outcome_response(outcome: RefundOutcome, order: Order, back_url: str,
                     confirm: Callable[..., tuple], refused: Callable[[str, str, int], tuple]):
    """The answer to a confirmed refund form: back to ``back_url`` with what happened;
    the form's page again (``refused(code, message, status)``) when it was refused
    before anything was done; else the confirmation step again (``confirm(error=...,
    can_retry=..., status=...)``) saying why it did not end."""
    if outcome.kind == "done":
        message, category = done_message(outcome.refund)
        flash(message, category)
        return redirect(back_url, 303)
    if outcome.kind == "replayed":
        flash(replayed_message(outcome.refund), "success")
        return redirect(back_url, 303)
    if outcome.kind == "busy":
        return confirm(error=str(submissions.BUSY), can_retry=False, status=409)
    if outcome.kind == "stale":
        return refused("stale", str(submissions.STALE_FORM), 400)
    if outcome.kind == "refused":
        db.session.expire_all()
        return refused(outcome.code, refused_message(outcome.code, order), outcome.status)
    return confirm(error=provider_message(outcome),
                   can_retry=outcome.code == "provider_unavailable", status=outcome.status)


@bp.post("/<seller_id>/orders/<order_id>/refund")
@member_page(Permission.ORDERS)
def order_refund(order_id: str):
    """The refund form: checked, then the confirmation step (what will happen); once
    confirmed, the refund, once."""
    order = _order_loaded(order_id)
    form = RefundForm(order)
    if not form.validate_on_submit():
        return render_order(order, refund_form=form, status=400)
    back = url_for("console.order_detail", order_id=order.public_id)
    amount, reason, destination = form.minor, (form.reason.data or "").strip(), \
        form.destination.data
    if (done := submissions.peek(current_seller(), form.submission.data)) is not None:
        refund = db.session.scalar(db.select(Refund).filter_by(public_id=done.resource,
                                                               order_id=order.id))
        flash(replayed_message(refund), "success")
        return redirect(back, 303)
    shown = amount if amount is not None else refundable_amount(order)

    def confirm(error=None, can_retry=True, status=200):
        return render_confirm(
            order, form=form, action_url=url_for("console.order_refund",
                                                 order_id=order.public_id),
            heading=_("Refund %(amount)s of order %(id)s?", amount=money(
                shown, order.currency), id=order.public_id),
            button=_("Refund %(amount)s", amount=money(shown, order.currency)),
            cancel_url=back, amount=shown, destination=destination, reason=reason,
            error=error, can_retry=can_retry, status=status)

    def refused(code: str, message: str, status: int):
        """The order's page again, the form as sent with the refusal beside the amount;
        a fresh form (key, what can be refunded now) when the old one is out of date."""
        if code == "amount_exceeds_refundable":
            form.amount.errors = [message]
            return render_order(order, refund_form=form, status=status)
        fresh = new_refund_form(order, destination)
        fresh.submission.errors = [message]
        return render_order(order, refund_form=fresh, status=status)

    if form.confirmed.data != "yes":
        if shown > refundable_amount(order):
            return refused("amount_exceeds_refundable",
                           refused_message("amount_exceeds_refundable", order), 422)
        return confirm()
    outcome = refund_once(order, key=form.submission.data, amount=amount, reason=reason,
                          destination=destination, seen=int(form.seen.data),
                          action="order_refund")
    return outcome_response(outcome, order, back, confirm, refused)


OFFLINE_REFUSED = {
    "order_not_payable": _l("Nothing is due on this order: only an unpaid order takes an "
                            "offline payment."),
    "amount_exceeds_due": _l("Only %(amount)s is left to pay on this order."),
    "partial_not_allowed": _l("The payment must be the %(amount)s due: your shop takes no "
                              "partial offline payments (see Settings)."),
    "invalid_amount": _l("The amount must be positive."),
    "reference_required": _l("Give the payment's reference: the transfer's, the invoice "
                             "number, the receipt…"),
    "invalid_method": _l("Choose how it was paid."),
}


@bp.post("/<seller_id>/orders/<order_id>/offline-payments")
@member_page(Permission.ORDERS)
def order_offline_payment(order_id: str):
    """Record a payment made outside Buyflow (a transfer, cash, an invoice, by phone),
    once for the form's key; the order is paid when nothing is left due."""
    order = _order_loaded(order_id)
    form = OfflinePaymentForm(order)
    if not form.validate_on_submit():
        return render_order(order, offline_form=form, status=400)
    back = url_for("console.order_detail", order_id=order.public_id)
    seller = current_seller()
    print_ = submissions.fingerprint("offline_payment", order.public_id, form.method.data,
                                     form.minor, form.reference.data.strip())
    try:
        submission = submissions.claim(seller, form.submission.data, print_)
    except submissions.SubmissionRefused as exc:
        form.submission.errors = [str(submissions.refusal_message(exc.code))]
        return render_order(order, offline_form=form,
                            status=409 if exc.code == "busy" else 400)
    payment = submission.resource and db.session.scalar(
        db.select(Payment).filter_by(public_id=submission.resource, order_id=order.id))
    if payment:  # sent before (and done, or cut off after its commit): shown, not redone
        submissions.finish(submission)
        flash(_("This form was sent before: its payment of %(amount)s was recorded then. "
                "Nothing more was recorded now.", amount=money(payment.amount,
                                                                payment.currency)),
              "success")
        return redirect(back, 303)
    try:
        locked(Order, order.id)
        before = {"status": order.status, "amount_due": amount_due(order)}
        payment = offline.record_offline_payment(
            order, method=form.method.data, amount=form.minor,
            reference=form.reference.data, recorded_by=str(console_actor()))
    except offline.OfflinePaymentRefused as exc:
        db.session.rollback()
        submissions.forget(submission)
        db.session.expire_all()
        due = money(amount_due(order), order.currency)
        form.submission.errors = [str(OFFLINE_REFUSED.get(exc.code, exc.message)) % {
            "amount": due}]
        return render_order(order, offline_form=form, status=exc.http_status
                            if exc.http_status in (409, 422) else 400)
    except Exception:
        db.session.rollback()
        submissions.release(submission)
        raise
    record_action("order.offline_payment_recorded", order.public_id, actor=console_actor(),
                  seller=seller, before=before,
                  after={"status": order.status, "amount_due": amount_due(order)},
                  payment=payment.public_id, method=payment.method, amount=payment.amount,
                  currency=payment.currency, reference=payment.reference)
    submissions.remember(submission, payment.public_id)
    db.session.commit()
    submissions.finish(submission)
    flash(_("Recorded the payment of %(amount)s.", amount=money(payment.amount,
                                                               payment.currency)), "success")
    return redirect(back, 303)
