"""Invitations: made by whom the team's rules allow, replaced when the same email is
invited again, accepted once by the person with that email, refused when expired,
withdrawn or used, audited."""

import threading
from datetime import timedelta

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Ban, Buyer, BuyerEmail, Invitation, Membership
from buyflow.models._base import utcnow
from buyflow.models.audit import SYSTEM, Actor
from buyflow.people import invitations, memberships
from buyflow.people.invitations import InvitationRefused, find_invitation
from buyflow.people.memberships import MembershipRefused
from tests.conftest import make_seller


@pytest.fixture
def shop(app_context):
    seller = make_seller()
    owner, admin, viewer = (Buyer(email=f"{r}@example.com") for r in ("owner", "admin",
                                                                       "viewer"))
    for person, role in ((owner, "owner"), (admin, "admin"), (viewer, "viewer")):
        db.session.add(Membership(seller=seller, person=person, role=role))
    db.session.commit()
    return seller, {"owner": owner, "admin": admin, "viewer": viewer}


def _by(seller, person):
    return memberships.membership_of(seller, person)


def _invite(seller, people, email="new@example.com", role="support", as_="owner"):
    invitation, token = invitations.invite(
        seller, email, role, actor=Actor.member(people[as_]), by=_by(seller, people[as_]),
        inviter=people[as_])
    db.session.commit()
    return invitation, token


def _refused(exc_type, code, fn, *args, **kwargs):
    with pytest.raises(exc_type) as refused:
        fn(*args, **kwargs)
    assert refused.value.code == code
    db.session.rollback()


def test_an_invitation_is_made_with_its_token_and_audited(shop):
    seller, people = shop
    invitation, token = _invite(seller, people, email=" New@Example.COM ")
    assert (invitation.email, invitation.role, invitation.invited_by_id) == (
        "new@example.com", "support", people["owner"].id)
    assert timedelta(days=6, hours=23) < invitation.expires_at - utcnow() <= timedelta(days=7)
    assert find_invitation(token).id == invitation.id
    entry = db.session.scalar(db.select(AuditEntry))
    assert (entry.action, entry.subject, entry.seller_id, entry.actor, entry.after) == (
        "member.invited", invitation.public_id, seller.id, Actor.member(people["owner"]),
        {"email": "new@example.com", "role": "support"})


def test_who_may_invite_whom(shop):
    seller, people = shop
    _refused(MembershipRefused, "owner_only", invitations.invite, seller, "x@example.com",
             "owner", actor=SYSTEM, by=_by(seller, people["admin"]))
    _refused(MembershipRefused, "not_allowed", invitations.invite, seller, "x@example.com",
             "viewer", actor=SYSTEM, by=_by(seller, people["viewer"]))
    _refused(InvitationRefused, "invalid_email", invitations.invite, seller, "not an email",
             "viewer", actor=SYSTEM, by=_by(seller, people["admin"]))
    _refused(MembershipRefused, "unknown_role", invitations.invite, seller, "x@example.com",
             "boss", actor=SYSTEM, by=_by(seller, people["admin"]))
    _invite(seller, people, role="owner")  # an owner may
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 1


def test_inviting_a_member_is_refused_by_any_of_their_verified_emails(shop):
    seller, people = shop
    people["viewer"].emails.append(BuyerEmail(email="viewer.other@example.com",
                                              verified_at=utcnow()))
    people["viewer"].emails.append(BuyerEmail(email="unverified@example.com"))
    db.session.commit()
    for email in ("viewer@example.com", "VIEWER.other@example.com"):
        _refused(MembershipRefused, "already_member", invitations.invite, seller, email,
                 "admin", actor=SYSTEM, by=_by(seller, people["owner"]))
    _invite(seller, people, email="unverified@example.com")  # proves nothing


def test_a_banned_email_is_not_invited(shop):
    seller, people = shop
    db.session.add(Ban(kind="domain", value="spam.example", reason="spam"))
    db.session.commit()
    with pytest.raises(InvitationRefused) as refused:
        invitations.invite(seller, "x@spam.example", "viewer", actor=SYSTEM, by=None)
    assert (refused.value.code, refused.value.ban_code) == ("banned", "domain_banned")


def test_inviting_again_replaces_the_open_invitation(shop):
    seller, people = shop
    first, first_token = _invite(seller, people)
    second, second_token = _invite(seller, people, role="admin", as_="admin")
    assert [i.public_id for i in invitations.open_invitations(seller)] == [second.public_id]
    assert db.session.get(Invitation, first.id).revoked_at is not None
    newcomer = Buyer(email="new@example.com")
    db.session.add(newcomer)
    db.session.commit()
    _refused(InvitationRefused, "revoked", invitations.accept, find_invitation(first_token),
             newcomer, actor=Actor.member(newcomer))
    membership = invitations.accept(find_invitation(second_token), newcomer,
                                    actor=Actor.member(newcomer))
    db.session.commit()
    assert membership.role == "admin"
    replaced = db.session.scalars(db.select(AuditEntry).filter_by(action="member.invited")
                                  .order_by(AuditEntry.id)).all()[-1]
    assert replaced.detail["replaced"] == [first.public_id]


def test_accepting_makes_a_member_once(shop):
    seller, people = shop
    invitation, token = _invite(seller, people)
    newcomer = Buyer(email="someone@example.com")
    newcomer.emails.append(BuyerEmail(email="new@example.com", verified_at=utcnow()))
    db.session.add(newcomer)
    db.session.commit()
    membership = invitations.accept(find_invitation(token), newcomer,
                                    actor=Actor.member(newcomer))
    db.session.commit()
    assert (membership.seller_id, membership.buyer_id, membership.role) == (
        seller.id, newcomer.id, "support")
    invitation = db.session.get(Invitation, invitation.id)
    assert invitation.accepted_at is not None and invitation.accepted_by_id == newcomer.id
    assert [e.action for e in db.session.scalars(db.select(AuditEntry).order_by(
        AuditEntry.id))] == ["member.invited", "member.added", "member.invitation_accepted"]
    _refused(InvitationRefused, "used", invitations.accept, find_invitation(token), newcomer,
             actor=SYSTEM)
    assert invitations.open_invitations(seller) == []


def test_only_the_person_with_that_verified_email_accepts(shop):
    seller, people = shop
    _invitation, token = _invite(seller, people)
    stranger = Buyer(email="stranger@example.com")
    stranger.emails.append(BuyerEmail(email="new@example.com"))  # not verified
    db.session.add(stranger)
    db.session.commit()
    _refused(InvitationRefused, "wrong_person", invitations.accept, find_invitation(token),
             stranger, actor=SYSTEM)
    assert memberships.membership_of(seller, stranger) is None


def test_expired_tampered_and_withdrawn_invitations_are_refused(app, shop):
    seller, people = shop
    invitation, token = _invite(seller, people)
    newcomer = Buyer(email="new@example.com")
    db.session.add(newcomer)
    db.session.commit()
    _refused(InvitationRefused, "invalid_invitation", find_invitation, token[:-2] + "xx")
    _refused(InvitationRefused, "invalid_invitation", find_invitation, "nonsense")
    # Past its time in the row (the token is still fresh)...
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    _refused(InvitationRefused, "expired", invitations.accept, find_invitation(token),
             newcomer, actor=SYSTEM)
    # ... or past the token's age.
    app.config["INVITATION_MAX_AGE_SECONDS"], saved = -1, app.config[
        "INVITATION_MAX_AGE_SECONDS"]
    try:
        _refused(InvitationRefused, "expired", find_invitation, token)
    finally:
        app.config["INVITATION_MAX_AGE_SECONDS"] = saved
    other, other_token = _invite(seller, people, email="other@example.com")
    invitations.revoke(other, actor=SYSTEM, by=_by(seller, people["admin"]))
    db.session.commit()
    assert db.session.scalar(db.select(AuditEntry).filter_by(
        action="member.invitation_revoked")).subject == other.public_id
    _refused(InvitationRefused, "revoked", invitations.revoke, other, actor=SYSTEM, by=None)


def test_an_admin_cannot_withdraw_an_owners_invitation(shop):
    seller, people = shop
    invitation, _token = _invite(seller, people, role="owner")
    _refused(MembershipRefused, "owner_only", invitations.revoke, invitation, actor=SYSTEM,
             by=_by(seller, people["admin"]))


def test_two_acceptances_at_once_make_one_membership(app, shop):
    seller, people = shop
    _invitation, token = _invite(seller, people)
    newcomer = Buyer(email="new@example.com")
    db.session.add(newcomer)
    db.session.commit()
    person_id = newcomer.id
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes = []

    def accept():
        with app.app_context():
            person = db.session.get(Buyer, person_id)
            invitation = find_invitation(token)
            barrier.wait()
            try:
                invitations.accept(invitation, person, actor=Actor.member(person))
                db.session.commit()
                outcomes.append("accepted")
            except (InvitationRefused, MembershipRefused) as exc:
                db.session.rollback()
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "used"]
    assert db.session.scalar(db.select(db.func.count(Membership.id)).where(
        Membership.buyer_id == person_id)) == 1
