"""The operator admin's people: search them by any of their emails, list them a page at a
time, and on each person's page their emails, memberships, operator flag, state and the
recent audit entries about them; deactivate and reactivate them, add an email (verified
or not), mark one verified by hand, remove one, grant and revoke a seller role or the
operator role. The rules are in ``buyflow/people/admin_people.py`` (accounts and emails),
``buyflow/people/memberships.py`` (roles: a seller always keeps an owner) and
``buyflow/people/operators.py`` (the service always keeps an operator)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from buyflow.errors import CodedError
from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, BuyerEmail, Membership, Seller
from buyflow.models.audit import ActorType
from buyflow.models.people import SellerRole
from buyflow.people import admin_people
from buyflow.people.admin_people import PersonRefused
from buyflow.people.memberships import (
    MembershipRefused,
    add_member,
    change_role,
    membership_of,
    remove_member,
)
from buyflow.people.operators import (
    OperatorRefused,
    grant_operator,
    is_last_operator,
    revoke_operator,
)
from buyflow.people.operators import refusal_message as operator_refusal

from ..auth.sessions import current_buyer
from ..console.labels import ROLE_LABELS
from . import bp
from .access import operator_actor, operator_page

PAGE_SIZE = 50
RECENT_ENTRIES = 30

KINDS = {
    "operators": _l("Operators"),
    "deactivated": _l("Deactivated"),
}

ACTOR_LABELS = {
    ActorType.BUYER: _l("Person"),
    ActorType.MEMBER: _l("Member"),
    ActorType.OPERATOR: _l("Operator"),
    ActorType.SYSTEM: _l("System"),
    ActorType.API_KEY: _l("API key"),
}


def actor_label(actor_type: str) -> str:
    return str(ACTOR_LABELS.get(actor_type, actor_type))


REFUSALS = {
    # PersonRefused
    "yourself": _l("You cannot deactivate yourself: ask another operator."),
    "last_operator": _l("This is the last operator of the service: make someone else an "
                        "operator first."),
    "deleted": _l("This account was deleted: it cannot be changed."),
    "invalid_email": _l("Please enter a valid email address."),
    "already_theirs": _l("This email is already one of this person's."),
    "other_person": _l("This email belongs to another person (their primary email, or one "
                       "they verified). Remove it from their account first."),
    "already_verified": _l("This email is already verified."),
    # MembershipRefused
    "unknown_role": _l("Choose one of the roles."),
    "last_owner": _l("This is the seller's last owner: make someone else an owner of it "
                     "first."),
    "already_member": _l("This person is already a member of that seller."),
    "not_a_member": _l("This person is not a member of that seller."),
    # Forms naming what is not there
    "unknown_seller": _l("There is no seller with this id."),
    "unknown_email": _l("This email is not one of this person's other emails."),
}


def refusal(code: str) -> str:
    if code in REFUSALS:
        return str(REFUSALS[code])
    return operator_refusal(code)


class _NotThere(CodedError):
    """What a form names is not there (no such seller, not one of the person's emails)."""


class DeactivateForm(FlaskForm):
    reason = TextAreaField(_l("Why (kept in the audit log; optional)"),
                           validators=[Optional(), Length(max=1000)])


class AddEmailForm(FlaskForm):
    email = EmailField(_l("Email to add"), validators=[DataRequired(), Length(max=320)])
    verified = BooleanField(_l("Mark it verified now (you checked it is theirs)"))


class EmailChoiceForm(FlaskForm):
    """A button acting on one of the person's other emails."""

    email_id = HiddenField(validators=[DataRequired(), Length(max=40)])


class GrantRoleForm(FlaskForm):
    seller = StringField(_l("Seller id"), validators=[DataRequired(), Length(max=40)],
                         description=_l("The seller's id, as its page in Sellers shows it "
                                        "(sel_…)."))
    # A role that is not one is refused by memberships.checked_role, in our words.
    role = SelectField(_l("Role"), choices=[SelectChoice(role.value, label)
                                             for role, label in ROLE_LABELS.items()],
                       validators=[DataRequired()], validate_choice=False)


class SellerChoiceForm(FlaskForm):
    """A button acting on one of the person's memberships."""

    seller = HiddenField(validators=[DataRequired(), Length(max=40)])


class ConfirmForm(FlaskForm):
    """A button's form: its CSRF token only."""


def _person_or_404(person_id: str) -> Buyer:
    person = db.session.get(Buyer, int(person_id)) if person_id.isdigit() else None
    if person is None:
        abort(404)
    return person


@bp.get("/people")
@operator_page
def people():
    """Everyone, newest first, searched by any of their emails (``q``: part of the
    primary or of an other one), only operators or deactivated people (``kind``), a page
    at a time (keyset: ``after`` a person)."""
    query_text = request.args.get("q", "").strip()[:320]
    kind = request.args.get("kind", "")
    if kind not in KINDS:
        kind = ""
    select = db.select(Buyer)
    if query_text:
        select = select.where(db.or_(
            Buyer.email.icontains(query_text, autoescape=True),
            db.select(BuyerEmail.id).where(
                BuyerEmail.buyer_id == Buyer.id,
                BuyerEmail.email.icontains(query_text, autoescape=True)).exists()))
    if kind == "operators":
        select = select.where(Buyer.is_operator.is_(True))
    elif kind == "deactivated":
        select = select.where(Buyer.deactivated_at.is_not(None))
    if after := request.args.get("after"):
        if not after.isdigit():
            abort(404)
        select = select.where(Buyer.id < int(after))
    found = db.session.scalars(select.options(selectinload(Buyer.emails))
                               .order_by(Buyer.id.desc()).limit(PAGE_SIZE + 1)).all()
    page = found[:PAGE_SIZE]
    next_after = page[-1].id if len(found) > PAGE_SIZE else None
    return render_template("admin/people.html", people=page, next_after=next_after,
                           query_text=query_text, kind=kind, kinds=KINDS)


def _detail_page(person: Buyer, *, error: str | None = None, status: int = 200, **forms):
    memberships = db.session.scalars(
        db.select(Membership).join(Seller, Seller.id == Membership.seller_id)
        .where(Membership.buyer_id == person.id).order_by(Seller.name)).all()
    entries = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.buyer_id == person.id)
        .order_by(AuditEntry.id.desc()).limit(RECENT_ENTRIES)).all()
    forms = {"deactivate_form": DeactivateForm(formdata=None),
             "add_email_form": AddEmailForm(formdata=None),
             "grant_role_form": GrantRoleForm(formdata=None),
             "confirm_form": ConfirmForm(formdata=None), **forms}
    return render_template(
        "admin/people_detail.html", person=person, memberships=memberships, entries=entries,
        is_last_operator=is_last_operator(person), myself=current_buyer().id == person.id,
        error=error, actor_label=actor_label, **forms), status


@bp.get("/people/<person_id>")
@operator_page
def people_detail(person_id: str):
    """One person's emails, memberships, operator flag, state and recent audit entries."""
    return _detail_page(_person_or_404(person_id))


def _act(person_id: str, form: FlaskForm, form_name: str | None, change, done: str,
         then: str | None = None):
    """POST → ``change(person, form)`` committed with its audit entries, then back to the
    person's page (or ``then``) with ``done``. Invalid input: the page with the field's
    errors, 400; a refusal by the rules: the page saying why, 422; nothing changed."""
    person = _person_or_404(person_id)
    shown = {form_name: form} if form_name else {}
    if not form.validate_on_submit():
        error = (_("Nothing was changed: check the form below.") if form_name else
                 _("Nothing was changed: the request was incomplete. Reload the page and "
                   "try again."))
        return _detail_page(person, error=error, status=400, **shown)
    try:
        message = change(person, form)
    except (PersonRefused, MembershipRefused, OperatorRefused, _NotThere) as exc:
        db.session.rollback()
        return _detail_page(_person_or_404(person_id), error=refusal(exc.code),
                            status=422, **shown)
    db.session.commit()
    flash(message or done)
    return redirect(then or url_for("admin.people_detail", person_id=person_id), 303)


@bp.post("/people/<person_id>/deactivate")
@operator_page
def people_deactivate(person_id: str):
    def change(person, form):
        if not admin_people.deactivate(person, actor=operator_actor(), by=current_buyer(),
                                       reason=(form.reason.data or "").strip() or None):
            return _("This person was deactivated already.")
        return None

    return _act(person_id, DeactivateForm(), "deactivate_form", change,
                _("Deactivated: this person is signed out everywhere and cannot sign in."))


@bp.post("/people/<person_id>/reactivate")
@operator_page
def people_reactivate(person_id: str):
    def change(person, form):
        if not admin_people.reactivate(person, actor=operator_actor()):
            return _("This person was not deactivated.")
        return None

    return _act(person_id, ConfirmForm(), None, change,
                _("Reactivated: this person can sign in again."))


@bp.post("/people/<person_id>/emails")
@operator_page
def people_email_add(person_id: str):
    def change(person, form):
        admin_people.add_email(person, form.email.data, verified=form.verified.data,
                               actor=operator_actor())
        return None

    return _act(person_id, AddEmailForm(), "add_email_form", change, _("Email added."))


def _persons_email(person: Buyer, form: EmailChoiceForm) -> BuyerEmail:
    row = db.session.scalar(db.select(BuyerEmail).filter_by(buyer_id=person.id,
                                                            public_id=form.email_id.data))
    if row is None:
        raise _NotThere("unknown_email")
    return row


@bp.post("/people/<person_id>/emails/verify")
@operator_page
def people_email_verify(person_id: str):
    def change(person, form):
        admin_people.mark_verified(person, _persons_email(person, form),
                                   actor=operator_actor())
        return None

    return _act(person_id, EmailChoiceForm(), None, change,
                _("Marked verified: purchases and sign-in with this email count as theirs."))


@bp.post("/people/<person_id>/emails/remove")
@operator_page
def people_email_remove(person_id: str):
    def change(person, form):
        admin_people.remove_email(person, _persons_email(person, form),
                                  actor=operator_actor())
        return None

    return _act(person_id, EmailChoiceForm(), None, change, _("Email removed."))


def _seller(form_field) -> Seller:
    seller = db.session.scalar(db.select(Seller).filter_by(public_id=form_field.data.strip()))
    if seller is None:
        raise _NotThere("unknown_seller")
    return seller


@bp.post("/people/<person_id>/roles")
@operator_page
def people_role_grant(person_id: str):
    """Give the person ``role`` at ``seller``: a new membership, or another role in the
    one they have (the seller's last owner keeps being one)."""

    def change(person, form):
        seller = _seller(form.seller)
        membership = membership_of(seller, person)
        if membership is None:
            add_member(seller, person, form.role.data, actor=operator_actor())
        elif not change_role(membership, form.role.data, actor=operator_actor(), by=None):
            return _("This person already has this role there.")
        return None

    return _act(person_id, GrantRoleForm(), "grant_role_form", change, _("Role granted."))


@bp.post("/people/<person_id>/roles/revoke")
@operator_page
def people_role_revoke(person_id: str):
    """Take the person off ``seller``'s team (never its last owner)."""

    def change(person, form):
        membership = membership_of(_seller(form.seller), person)
        if membership is None:
            raise MembershipRefused("not_a_member")
        remove_member(membership, actor=operator_actor(), by=None)
        return None

    return _act(person_id, SellerChoiceForm(), None, change, _("Role revoked."))


@bp.post("/people/<person_id>/operator/grant")
@operator_page
def people_operator_grant(person_id: str):
    def change(person, form):
        if not grant_operator(person, actor=operator_actor()):
            return _("This person is an operator already.")
        return None

    return _act(person_id, ConfirmForm(), None, change,
                _("This person is an operator now: they can open the operator admin."))


@bp.post("/people/<person_id>/operator/revoke")
@operator_page
def people_operator_revoke(person_id: str):
    """Revoke the operator role (refused for the last operator who can sign in; an
    operator revoking their own leaves the admin)."""
    myself = current_buyer().id == _person_or_404(person_id).id

    def change(person, form):
        if not revoke_operator(person, actor=operator_actor()):
            return _("This person is not an operator.")
        return None

    return _act(person_id, ConfirmForm(), None, change,
                _("This person is an operator no more."),
                then=url_for("management.home") if myself else None)
