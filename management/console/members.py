"""The team: who is a member with which role, the invitations still open; invite by
email, change a role, remove a member, hand the ownership over, leave; and accepting an
invitation (``/console/invitations/<token>``, for whoever signed in with its email). The
rules are in ``buyflow/people/memberships.py`` and ``invitations.py``; here are the
forms and the refusals in the person's language."""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_mailman import EmailMessage
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField
from wtforms.validators import DataRequired, Length

from buyflow.extensions import db
from buyflow.models import Invitation, Membership
from buyflow.models.people import SellerRole
from buyflow.people import invitations, memberships
from buyflow.people.bans import refusal_message as ban_message
from buyflow.people.invitations import InvitationRefused
from buyflow.people.memberships import MembershipRefused
from buyflow.people.roles import Permission, role_allows

from ..account.forms import ConfirmForm
from ..auth.sessions import buyer_required, current_buyer
from . import bp
from .access import (
    console_actor,
    current_membership,
    current_seller,
    member_page,
    seller_object,
)
from .labels import ROLE_DESCRIPTIONS, ROLE_LABELS, role_label

log = logging.getLogger(__name__)

REFUSALS = {
    # MembershipRefused
    "unknown_role": _l("Choose one of the roles."),
    "not_allowed": _l("Your role in this team does not allow this. Ask an owner or an admin."),
    "owner_only": _l("Only an owner can make or remove owners, or hand the ownership over."),
    "last_owner": _l("The team needs an owner: make someone else an owner first."),
    "already_member": _l("This person is already a member of the team."),
    "not_a_member": _l("This person is no longer a member of the team."),
    "not_an_owner": _l("Only an owner can hand the ownership over."),
    "same_person": _l("Choose another member to hand the ownership to."),
    # InvitationRefused
    "invalid_email": _l("Please enter a valid email address."),
    "invalid_invitation": _l("This invitation link is not valid. Check that you copied "
                             "all of it, or ask for a new invitation."),
    "expired": _l("This invitation has expired. Ask the team for a new one."),
    "revoked": _l("This invitation was withdrawn. Ask the team for a new one."),
    "used": _l("This invitation was already accepted."),
    "wrong_person": _l("This invitation is for %(email)s. Sign in with that email, or add "
                       "it to your account's emails, then open the link again."),
    "banned": _l("This email may not join a team on this service."),
}


def refusal_message(exc: MembershipRefused | InvitationRefused) -> str:
    """The person's sentence for a refusal of the team's rules or of an invitation."""
    if isinstance(exc, InvitationRefused) and exc.code == "banned" and exc.ban_code:
        return ban_message(exc.ban_code)
    return str(REFUSALS[exc.code])


def refusal_status(exc: MembershipRefused | InvitationRefused) -> int:
    """400 for bad input, 409 for a member already there, else 422 (a rule refused)."""
    if exc.code in ("invalid_email", "unknown_role"):
        return 400
    return 409 if exc.code == "already_member" else 422


def _role_choices(may_give_owner: bool) -> list[tuple[str, str]]:
    return [(role.value, str(ROLE_LABELS[role])) for role in memberships.ROLE_ORDER
            if may_give_owner or role != SellerRole.OWNER]


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=320)])
    role = SelectField(_l("Role"), validators=[DataRequired()], default=SellerRole.VIEWER.value)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])


class TransferForm(FlaskForm):
    to = SelectField(_l("New owner"), validators=[DataRequired(_l("Choose a member."))])
    understood = BooleanField(
        _l("I understand that I will no longer be an owner: I will be an admin of the team."),
        validators=[DataRequired(_l("Please tick the box to confirm."))])


def _may_give_owner() -> bool:
    return role_allows(current_membership().role, Permission.OWNERSHIP)


def _invite_form() -> InviteForm:
    form = InviteForm()
    form.role.choices = _role_choices(_may_give_owner())
    return form


def _team_member(member_id: int) -> Membership:
    """The current seller's membership ``member_id``, else 404."""
    found = db.session.scalar(db.select(Membership).where(
        Membership.id == member_id, Membership.seller_id == current_seller().id))
    if found is None:
        abort(404)
    return found


def _members_page(invite_form: InviteForm | None = None, *, row_error=None,
                  error: str | None = None, status: int = 200):
    """The team page; ``row_error`` is (membership id, message) for a refused change."""
    seller = current_seller()
    return render_template(
        "console/members.html", members=memberships.members_of(seller),
        invitations=invitations.open_invitations(seller),
        invite_form=invite_form or _invite_form(),
        role_choices=_role_choices(_may_give_owner()), may_give_owner=_may_give_owner(),
        descriptions=ROLE_DESCRIPTIONS, me=current_membership(), row_error=row_error,
        error=error, csrf_form=ConfirmForm()), status


@bp.get("/<seller_id>/members")
@member_page(Permission.MEMBERS)
def members():
    return _members_page()


def send_invitation_mail(invitation: Invitation, token: str) -> bool:
    """Mail the invitation's link (in the inviter's language); False when it could not
    be sent (the invitation stays: inviting again sends a new link)."""
    link = url_for("console.member_accept_invitation", token=token, _external=True)
    seller, inviter = invitation.seller, current_buyer()
    try:
        EmailMessage(
            subject=_("%(inviter)s invites you to join %(seller)s on Buyflow",
                      inviter=inviter.email, seller=seller.name),
            body=render_template("email/invitation.txt", invitation=invitation, link=link,
                                 seller=seller, inviter=inviter,
                                 role=role_label(invitation.role),
                                 role_description=ROLE_DESCRIPTIONS[SellerRole(invitation.role)],
                                 days=invitations.max_age() // 86400),
            to=[invitation.email],
        ).send()
    except Exception:  # noqa: BLE001 - the mail server's failure is the person's to see
        log.exception("invitation %s: the mail could not be sent", invitation.public_id)
        return False
    return True


@bp.post("/<seller_id>/members/invite")
@member_page(Permission.MEMBERS)
def member_invite():
    form = _invite_form()
    if not form.validate_on_submit():
        return _members_page(form, status=400)
    try:
        invitation, token = invitations.invite(
            current_seller(), form.email.data, form.role.data, actor=console_actor(),
            by=current_membership(), inviter=current_buyer())
    except (MembershipRefused, InvitationRefused) as exc:
        db.session.rollback()
        field = form.role if exc.code in ("owner_only", "unknown_role") else form.email
        field.errors = [*field.errors, refusal_message(exc)]
        return _members_page(form, status=refusal_status(exc))
    db.session.commit()
    if send_invitation_mail(invitation, token):
        flash(_("Invitation sent to %(email)s.", email=invitation.email))
    else:
        flash(_("The invitation to %(email)s is saved, but its email could not be sent. "
                "Invite the same email again to send a new one.", email=invitation.email),
              "error")
    return redirect(url_for("console.members"), 303)


@bp.post("/<seller_id>/members/<int:member_id>/role")
@member_page(Permission.MEMBERS)
def member_role(member_id: int):
    membership = _team_member(member_id)
    form = RoleForm()
    form.role.choices = [(role.value, str(ROLE_LABELS[role])) for role in SellerRole]
    if not form.validate_on_submit():
        return _members_page(row_error=(membership.id, str(REFUSALS["unknown_role"])),
                             status=400)
    try:
        changed = memberships.change_role(membership, form.role.data, actor=console_actor(),
                                          by=current_membership())
    except MembershipRefused as exc:
        db.session.rollback()
        return _members_page(row_error=(membership.id, refusal_message(exc)),
                             status=refusal_status(exc))
    db.session.commit()
    if changed:
        flash(_("%(email)s is now %(role)s.", email=membership.person.email,
                role=role_label(membership.role)))
    if not role_allows(current_membership().role, Permission.MEMBERS):
        return redirect(url_for("console.home"), 303)  # they demoted themself
    return redirect(url_for("console.members"), 303)


@bp.route("/<seller_id>/members/<int:member_id>/remove", methods=["GET", "POST"])
@member_page(Permission.MEMBERS)
def member_remove(member_id: int):
    """A confirmation page, then the removal."""
    membership = _team_member(member_id)
    form = ConfirmForm()
    error, status = None, 200
    if form.validate_on_submit():
        email = membership.person.email
        myself = membership.id == current_membership().id
        try:
            memberships.remove_member(membership, actor=console_actor(),
                                      by=current_membership())
        except MembershipRefused as exc:
            db.session.rollback()
            error, status = refusal_message(exc), refusal_status(exc)
        else:
            db.session.commit()
            if myself:
                flash(_("You left the team of %(seller)s.", seller=current_seller().name))
                return redirect(url_for("console.index"), 303)
            flash(_("%(email)s is no longer a member of the team.", email=email))
            return redirect(url_for("console.members"), 303)
    elif form.is_submitted():
        error, status = _("The form expired. Please try again."), 400
    return render_template("console/members_remove.html", form=form, membership=membership,
                           error=error), status


@bp.route("/<seller_id>/members/transfer", methods=["GET", "POST"])
@member_page(Permission.OWNERSHIP)
def member_transfer():
    """Hand the ownership to another member, after a clearly labelled confirmation."""
    me = current_membership()
    others = [m for m in memberships.members_of(current_seller()) if m.id != me.id]
    form = TransferForm()
    form.to.choices = [("", _("Choose a member"))] + [
        (str(m.id), _("%(email)s, %(role)s", email=m.person.email, role=role_label(m.role)))
        for m in others]
    status = 200
    if form.validate_on_submit():
        to = next((m for m in others if str(m.id) == form.to.data), None)
        try:
            if to is None:
                raise MembershipRefused("not_a_member")
            memberships.transfer_ownership(me, to, actor=console_actor())
        except MembershipRefused as exc:
            db.session.rollback()
            form.to.errors = [*form.to.errors, refusal_message(exc)]
            status = 422
        else:
            db.session.commit()
            flash(_("%(email)s is now an owner of the team; you are an admin.",
                    email=to.person.email))
            return redirect(url_for("console.members"), 303)
    elif form.is_submitted():
        status = 400
    return render_template("console/members_transfer.html", form=form, others=others), status


@bp.route("/<seller_id>/leave", methods=["GET", "POST"])
@member_page(Permission.VIEW)
def member_leave():
    """Leave the team (every member may; the last owner may not), after a confirmation."""
    me = current_membership()
    seller = current_seller()
    form = ConfirmForm()
    last_owner = me.role == SellerRole.OWNER and memberships.owner_count(seller) <= 1
    error, status = None, 200
    if form.validate_on_submit():
        name = seller.name
        try:
            memberships.leave(me, actor=console_actor())
        except MembershipRefused as exc:
            db.session.rollback()
            error, status = refusal_message(exc), refusal_status(exc)
        else:
            db.session.commit()
            flash(_("You left the team of %(seller)s.", seller=name))
            return redirect(url_for("console.index"), 303)
    elif form.is_submitted():
        error, status = _("The form expired. Please try again."), 400
    return render_template("console/members_leave.html", form=form, last_owner=last_owner,
                           error=error), status


@bp.post("/<seller_id>/members/invitations/<invitation_id>/revoke")
@member_page(Permission.MEMBERS)
def member_invitation_revoke(invitation_id: str):
    invitation = seller_object(Invitation, invitation_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _members_page(error=_("The form expired. Please try again."), status=400)
    try:
        invitations.revoke(invitation, actor=console_actor(), by=current_membership())
    except (MembershipRefused, InvitationRefused) as exc:
        db.session.rollback()
        return _members_page(error=refusal_message(exc), status=refusal_status(exc))
    db.session.commit()
    flash(_("The invitation to %(email)s was withdrawn.", email=invitation.email))
    return redirect(url_for("console.members"), 303)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@buyer_required
def member_accept_invitation(token: str):
    """An invitation's link: who invites whom to which team, and a button to join, for
    the person signed in with its email (any other is told how to become them)."""
    person = current_buyer()
    try:
        invitation = invitations.find_invitation(token)
    except InvitationRefused as exc:
        return render_template("console/members_invitation.html", invitation=None,
                               error=refusal_message(exc), form=None), exc.http_status
    mine = memberships.membership_of(invitation.seller, person)
    if mine is not None and invitation.accepted_by_id == person.id:
        return redirect(url_for("console.home", seller_id=invitation.seller.public_id), 303)
    form = ConfirmForm()
    code = invitations.refusal_to_accept(invitation, person)
    error = None if code is None else _refusal_to_accept(code, invitation)
    status = 200 if code in (None, "wrong_person") else 410
    if code is None and form.validate_on_submit():
        try:
            invitations.accept(invitation, person, actor=console_actor())
        except (MembershipRefused, InvitationRefused) as exc:
            db.session.rollback()
            code, status = exc.code, 422
            error = _refusal_to_accept(code, invitation) if isinstance(
                exc, InvitationRefused) and code != "banned" else refusal_message(exc)
        else:
            db.session.commit()
            flash(_("Welcome to the team of %(seller)s.", seller=invitation.seller.name))
            return redirect(url_for("console.home", seller_id=invitation.seller.public_id), 303)
    elif form.is_submitted():
        status = 422 if code else 400
        error = error or _("The form expired. Please try again.")
    return render_template("console/members_invitation.html", invitation=invitation,
                           error=error, form=form if code is None else None,
                           wrong_person=code == "wrong_person", role=role_label(invitation.role),
                           role_description=ROLE_DESCRIPTIONS[SellerRole(invitation.role)]), status


def _refusal_to_accept(code: str, invitation: Invitation) -> str:
    if code == "wrong_person":
        return str(REFUSALS["wrong_person"]) % {"email": invitation.email}
    return str(REFUSALS[code])
