"""A seller's team: adding members, changing their roles, removing them, leaving, and
handing the ownership over.

The rules (``MembershipRefused`` names each refusal):

- who acts is ``by``, the acting member's own membership, or None for the system (the
  CLI, an accepted invitation: the invitation was the team's decision); a member acts
  on the team only when their role has ``Permission.MEMBERS``, except to leave;
- only an owner (``Permission.OWNERSHIP``) makes or unmakes owners, removes one, or
  transfers the ownership; admins manage everyone else;
- the last owner can neither leave, be removed, nor be demoted: a seller always has an
  owner.

Every change locks the seller's row first (``locks.locked``), so two changes of one team
never cross (two owners demoting each other at once leave one owner), adds its audit
entry to the current transaction and flushes; the caller commits.
"""

from __future__ import annotations

from ..audit import record_action
from ..errors import CodedError
from ..extensions import db
from ..locks import locked
from ..models import Buyer, Membership, Seller
from ..models.audit import Actor
from ..models.people import SellerRole
from .roles import Permission, role_allows

# The team as it is listed: owners first.
ROLE_ORDER = [SellerRole.OWNER, SellerRole.ADMIN, SellerRole.SUPPORT, SellerRole.VIEWER]

REFUSALS = {
    "unknown_role": ("no such role", 400),
    "not_allowed": ("your role does not let you change the team", 403),
    "owner_only": ("only an owner may make or unmake owners or transfer the ownership", 403),
    "last_owner": ("the last owner can neither leave, be removed nor be demoted", 422),
    "already_member": ("this person is already a member of the team", 409),
    "not_a_member": ("this person is not a member of the team", 404),
    "not_an_owner": ("only an owner can hand the ownership over", 403),
    "same_person": ("the ownership is handed over to another member", 422),
}


class MembershipRefused(CodedError):
    """A team change the rules refuse, before anything was written: ``code`` is one of
    ``REFUSALS``, with its English ``message`` and ``http_status``."""

    def __init__(self, code: str):
        message, status = REFUSALS[code]
        super().__init__(code, message, status)


def checked_role(role: str) -> SellerRole:
    try:
        return SellerRole(role)
    except ValueError:
        raise MembershipRefused("unknown_role") from None


def membership_of(seller: Seller, person: Buyer) -> Membership | None:
    return db.session.scalar(db.select(Membership).filter_by(seller_id=seller.id,
                                                             buyer_id=person.id))


def members_of(seller: Seller) -> list[Membership]:
    """The team, owners first, then by role, then by email."""
    members = db.session.scalars(db.select(Membership).join(Buyer)
                                 .where(Membership.seller_id == seller.id)
                                 .order_by(Buyer.email)).all()
    return sorted(members, key=lambda m: ROLE_ORDER.index(SellerRole(m.role)))


def owner_count(seller: Seller) -> int:
    return db.session.scalar(db.select(db.func.count(Membership.id)).where(
        Membership.seller_id == seller.id, Membership.role == SellerRole.OWNER))


def check_may_give(role: SellerRole, by: Membership | None) -> None:
    """Refuse unless ``by`` may make someone a member with ``role`` (invite or add)."""
    if by is None:
        return
    if not role_allows(by.role, Permission.MEMBERS):
        raise MembershipRefused("not_allowed")
    if role == SellerRole.OWNER and not role_allows(by.role, Permission.OWNERSHIP):
        raise MembershipRefused("owner_only")


def _lock_team(seller: Seller) -> None:
    locked(Seller, seller.id)


def _fresh(membership: Membership) -> Membership:
    """``membership`` read again after the team's lock (it may have changed or gone)."""
    fresh = db.session.get(Membership, membership.id, populate_existing=True)
    if fresh is None:
        raise MembershipRefused("not_a_member")
    return fresh


def _record(action: str, membership: Membership, actor: Actor, **change) -> None:
    # The subject is the person's row id (as actors are named); their email is theirs,
    # read from the person, so it goes when their account is deleted.
    record_action(action, str(membership.buyer_id), actor=actor, seller=membership.seller,
                  buyer=membership.person, **change)


def add_member(seller: Seller, person: Buyer, role: str, *, actor: Actor,
               by: Membership | None = None) -> Membership:
    """Make ``person`` a member of ``seller``'s team with ``role``."""
    role = checked_role(role)
    check_may_give(role, by)
    _lock_team(seller)
    if membership_of(seller, person) is not None:
        raise MembershipRefused("already_member")
    membership = Membership(seller=seller, person=person, role=role)
    db.session.add(membership)
    db.session.flush()
    _record("member.added", membership, actor, after={"role": str(role)})
    db.session.flush()
    return membership


def change_role(membership: Membership, role: str, *, actor: Actor,
                by: Membership | None) -> bool:
    """Give ``membership`` the role ``role``; False when it had it already (nothing
    written)."""
    role = checked_role(role)
    if by is not None and not role_allows(by.role, Permission.MEMBERS):
        raise MembershipRefused("not_allowed")
    _lock_team(membership.seller)
    membership = _fresh(membership)
    before = SellerRole(membership.role)
    if before == role:
        return False
    if SellerRole.OWNER in (before, role) and by is not None \
            and not role_allows(_fresh(by).role, Permission.OWNERSHIP):
        raise MembershipRefused("owner_only")
    if before == SellerRole.OWNER and owner_count(membership.seller) <= 1:
        raise MembershipRefused("last_owner")
    membership.role = role
    _record("member.role_changed", membership, actor, before={"role": str(before)},
            after={"role": str(role)})
    db.session.flush()
    return True


def remove_member(membership: Membership, *, actor: Actor,
                  by: Membership | None) -> None:
    """Take ``membership`` off the team (``by`` the same membership: they leave)."""
    leaving = by is not None and by.id == membership.id
    if by is not None and not leaving and not role_allows(by.role, Permission.MEMBERS):
        raise MembershipRefused("not_allowed")
    _lock_team(membership.seller)
    membership = _fresh(membership)
    if membership.role == SellerRole.OWNER:
        if by is not None and not leaving and not role_allows(_fresh(by).role,
                                                              Permission.OWNERSHIP):
            raise MembershipRefused("owner_only")
        if owner_count(membership.seller) <= 1:
            raise MembershipRefused("last_owner")
    _record("member.left" if leaving else "member.removed", membership, actor,
            before={"role": membership.role})
    db.session.delete(membership)
    db.session.flush()


def leave(membership: Membership, *, actor: Actor) -> None:
    """``membership``'s person leaves the team (never the last owner)."""
    remove_member(membership, actor=actor, by=membership)


def transfer_ownership(by: Membership, to: Membership, *, actor: Actor) -> None:
    """Hand ``by``'s ownership to ``to`` (another member of the same team): ``to``
    becomes an owner, ``by`` an admin. One audit entry says both."""
    if to.seller_id != by.seller_id:
        raise MembershipRefused("not_a_member")
    if to.id == by.id:
        raise MembershipRefused("same_person")
    _lock_team(by.seller)
    by, to = _fresh(by), _fresh(to)
    if by.role != SellerRole.OWNER:
        raise MembershipRefused("not_an_owner")
    before = {"from_role": by.role, "to_role": to.role}
    to.role, by.role = SellerRole.OWNER, SellerRole.ADMIN
    record_action("member.ownership_transferred", str(to.buyer_id), actor=actor,
                  seller=by.seller, buyer=to.person, previous_owner=str(by.buyer_id), before=before,
                  after={"from_role": str(by.role), "to_role": str(to.role)})
    db.session.flush()
