"""Invitations to join a seller's team: by email, with a role, mailed as a link that
carries a signed, expiring token (``tokens.signed_serializer``, salt ``SALT``, valid for
``INVITATION_MAX_AGE_SECONDS``).

- Inviting follows the team's rules (``memberships.check_may_give``: admins invite
  anyone but owners); someone already a member (by any of their verified emails) is
  refused; inviting an email again replaces its open invitation (the old link stops
  working).
- Accepting: the signed-in person must have the invitation's email among their verified
  emails (``buyers/identity.py``); they become a member with its role, once. Expired,
  revoked and used invitations are refused with their own codes.
- Revoking ends an open invitation.

Every change adds its audit entry to the current transaction and flushes; the caller
commits, then mails the link (``invitation_url``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired

from ..audit import record_action
from ..buyers.identity import normalized_email, verified_emails
from ..errors import CodedError
from ..extensions import db
from ..locks import locked
from ..models import Buyer, BuyerEmail, Invitation, Membership, Seller
from ..models._base import utcnow
from ..models.audit import Actor
from ..models.people import SellerRole
from ..tokens import signed_serializer
from . import memberships
from .bans import refusal_for_email
from .memberships import MembershipRefused, check_may_give, checked_role

SALT = "buyflow.invitation"

REFUSALS = {
    "invalid_email": ("not a valid email address", 400),
    "invalid_invitation": ("this invitation link is not valid", 404),
    "expired": ("this invitation has expired", 410),
    "revoked": ("this invitation was withdrawn", 410),
    "used": ("this invitation was already accepted", 410),
    "wrong_person": ("this invitation is for another email than yours", 403),
    "banned": ("this email may not join a team", 403),
}


class InvitationRefused(CodedError):
    """An invitation that cannot be made, accepted or revoked: ``code`` is one of
    ``REFUSALS`` (the team's own rules refuse with ``MembershipRefused``)."""

    def __init__(self, code: str, ban_code: str | None = None):
        message, status = REFUSALS[code]
        super().__init__(code, message, status)
        self.ban_code = ban_code  # for "banned": the ban's own code (people/bans.py)


def max_age() -> int:
    return int(current_app.config["INVITATION_MAX_AGE_SECONDS"])


def invitation_token(invitation: Invitation) -> str:
    """The token the invitation's link carries (signed, timed: only ``find_invitation``
    reads it, and only for ``max_age()`` seconds)."""
    return signed_serializer(SALT).dumps({"invitation": invitation.public_id})


def is_open(invitation: Invitation, now: datetime | None = None) -> bool:
    return (invitation.accepted_at is None and invitation.revoked_at is None
            and invitation.expires_at > (now or utcnow()))


def open_invitations(seller: Seller) -> list[Invitation]:
    """The seller's invitations still waiting for their person, newest first."""
    return db.session.scalars(db.select(Invitation).where(
        Invitation.seller_id == seller.id, Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.id.desc())).all()


def _is_member_by_email(seller: Seller, email: str) -> bool:
    by_primary = db.select(Membership.id).join(Buyer).where(
        Membership.seller_id == seller.id, Buyer.email == email)
    by_other = db.select(Membership.id).join(
        BuyerEmail, BuyerEmail.buyer_id == Membership.buyer_id).where(
        Membership.seller_id == seller.id, BuyerEmail.email == email,
        BuyerEmail.verified_at.is_not(None))
    return db.session.scalar(by_primary.union(by_other).limit(1)) is not None


def _ban_refusal(email: str) -> str | None:
    return refusal_for_email(email)


def invite(seller: Seller, email: str, role: str, *, actor: Actor,
           by: Membership | None, inviter: Buyer | None = None) -> tuple[Invitation, str]:
    """Invite ``email`` to ``seller``'s team with ``role``; returns the invitation and
    its token (for the mailed link). An open invitation of the same email is revoked."""
    role = checked_role(role)
    check_may_give(role, by)
    address = normalized_email(email or "")
    if address is None:
        raise InvitationRefused("invalid_email")
    if (ban := _ban_refusal(address)) is not None:
        raise InvitationRefused("banned", ban)
    locked(Seller, seller.id)  # the team's lock, as memberships take it
    if _is_member_by_email(seller, address):
        raise MembershipRefused("already_member")
    now = utcnow()
    replaced = db.session.scalars(db.select(Invitation).where(
        Invitation.seller_id == seller.id, Invitation.email == address,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))).all()
    for old in replaced:
        old.revoked_at = now
    invitation = Invitation(seller=seller, email=address, role=role,
                            invited_by_id=inviter.id if inviter is not None else None,
                            expires_at=now + timedelta(seconds=max_age()))
    db.session.add(invitation)
    db.session.flush()
    record_action("member.invited", invitation.public_id, actor=actor, seller=seller,
                  after={"email": address, "role": str(role)},
                  replaced=[old.public_id for old in replaced])
    db.session.flush()
    return invitation, invitation_token(invitation)


def find_invitation(token: str) -> Invitation:
    """The invitation ``token`` names, whatever its state; ``InvitationRefused``
    (``invalid_invitation``, ``expired``) when the token is not one of ours or too old."""
    try:
        data = signed_serializer(SALT).loads(token, max_age=max_age())
    except SignatureExpired:
        raise InvitationRefused("expired") from None
    except BadSignature:
        raise InvitationRefused("invalid_invitation") from None
    public_id = data.get("invitation") if isinstance(data, dict) else None
    invitation = db.session.scalar(db.select(Invitation).filter_by(public_id=public_id)) \
        if isinstance(public_id, str) else None
    if invitation is None:
        raise InvitationRefused("invalid_invitation")
    return invitation


def refusal_to_accept(invitation: Invitation, person: Buyer) -> str | None:
    """Why ``person`` may not accept ``invitation`` now (a code), or None."""
    if invitation.accepted_at is not None:
        return "used"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= utcnow():
        return "expired"
    if invitation.email not in verified_emails(person):
        return "wrong_person"
    return None


def accept(invitation: Invitation, person: Buyer, *, actor: Actor) -> Membership:
    """Make ``person`` a member with the invitation's role, once: two acceptances at
    once make one membership (the team's lock is taken before the invitation is read
    again)."""
    locked(Seller, invitation.seller_id)
    invitation = db.session.get(Invitation, invitation.id, populate_existing=True)
    if (code := refusal_to_accept(invitation, person)) is not None:
        raise InvitationRefused(code)
    if (ban := _ban_refusal(invitation.email)) is not None:
        raise InvitationRefused("banned", ban)
    membership = memberships.add_member(invitation.seller, person, invitation.role,
                                        actor=actor, by=None)
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = person.id
    record_action("member.invitation_accepted", invitation.public_id, actor=actor,
                  seller=invitation.seller, buyer=person,
                  after={"role": invitation.role})
    db.session.flush()
    return membership


def revoke(invitation: Invitation, *, actor: Actor, by: Membership | None) -> None:
    """Withdraw an open invitation: its link stops working."""
    check_may_give(SellerRole(invitation.role), by)
    locked(Seller, invitation.seller_id)
    invitation = db.session.get(Invitation, invitation.id, populate_existing=True)
    if invitation.accepted_at is not None:
        raise InvitationRefused("used")
    if invitation.revoked_at is not None:
        raise InvitationRefused("revoked")
    invitation.revoked_at = utcnow()
    record_action("member.invitation_revoked", invitation.public_id, actor=actor,
                  seller=invitation.seller, before={"email": invitation.email,
                                                    "role": invitation.role})
    db.session.flush()
