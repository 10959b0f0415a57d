"""The console's team page as its members use it: invite by email (the mailed link, the
person with that email joins), change roles, remove, hand the ownership over, leave;
what the rules refuse, shown on the page; every change audited as the member's."""

from __future__ import annotations

import re

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, BuyerEmail, Invitation, Membership, Seller
from buyflow.models._base import utcnow
from buyflow.models.audit import Actor
from tests.management.conftest import form_post


def base(team) -> str:
    return f"/console/{team.northwind}"


def member_id(in_app, team, role: str, seller=None) -> int:
    def read():
        return db.session.scalar(db.select(Membership.id).join(Buyer).join(Seller).where(
            Seller.public_id == (seller or team.northwind), Buyer.email == team.emails.get(
                role, role)))
    return in_app(read)


def role_of(in_app, team, role: str) -> str | None:
    def read():
        return db.session.scalar(db.select(Membership.role).join(Buyer).join(Seller).where(
            Seller.public_id == team.northwind, Buyer.email == team.emails.get(role, role)))
    return in_app(read)


def actions(in_app) -> list[tuple[str, str]]:
    return in_app(lambda: [(e.action, e.actor_type) for e in db.session.scalars(
        db.select(AuditEntry).order_by(AuditEntry.id))])


def invitation_link(mailbox, email: str) -> str:
    message = mailbox.last_to(email)
    return re.search(r"http://[^/\s]+(/console/invitations/\S+)", message.get_content()).group(1)


def add_person(in_app, email: str, *others: str) -> None:
    def make():
        person = Buyer(email=email)
        for other in others:
            person.emails.append(BuyerEmail(email=other, verified_at=utcnow()))
        db.session.add(person)
        db.session.commit()
    in_app(make)


@pytest.fixture
def owner(team, as_person):
    as_person(team.emails["owner"])
    return team


def test_the_team_page_lists_members_roles_and_open_invitations(client, owner, in_app):
    form_post(client, f"{base(owner)}/members/invite", {"email": "new@example.com",
                                                        "role": "support"})
    page = client.get(f"{base(owner)}/members")
    assert page.status_code == 200
    for email in owner.emails.values():
        assert f"<bdi>{email}</bdi>" in page.text
    assert "new@example.com" in page.text and "Withdraw" in page.text
    assert page.text.index("owner@northwind.test") < page.text.index("viewer@northwind.test")
    assert '<th scope="col">' in page.text and 'aria-current="page"' in page.text


def test_an_invitation_is_mailed_and_its_person_joins(client, owner, in_app, mailbox,
                                                      as_person):
    response = form_post(client, f"{base(owner)}/members/invite",
                         {"email": "New@Example.com", "role": "support"})
    assert response.status_code == 303 and response.location.endswith("/members")
    assert "Invitation sent to new@example.com" in client.get(response.location).text
    message = mailbox.last_to("new@example.com")
    assert "Northwind Coffee" in message["Subject"] and "owner@northwind.test" in message["Subject"]
    assert "Support" in message.get_content()
    link = invitation_link(mailbox, "new@example.com")
    # The invitee has an account where the invited email is a verified other one.
    add_person(in_app, "someone@example.com", "new@example.com")
    as_person("someone@example.com")
    page = client.get(link)
    assert page.status_code == 200 and "Join the team" in page.text
    joined = form_post(client, link)
    assert joined.status_code == 303 and joined.location == f"{base(owner)}/"
    assert role_of(in_app, owner, "someone@example.com") == "support"
    assert actions(in_app) == [("member.invited", "member"), ("member.added", "member"),
                               ("member.invitation_accepted", "member")]
    # Used: opening the link again goes to the console; joining again is refused.
    assert client.get(link).status_code == 303
    as_person(owner.emails["owner"])
    assert client.get(link).status_code == 410


def test_signed_out_invitees_sign_in_first(client, owner, mailbox, as_person):
    form_post(client, f"{base(owner)}/members/invite", {"email": "new@example.com",
                                                        "role": "viewer"})
    link = invitation_link(mailbox, "new@example.com")
    as_person(None)
    response = client.get(link)
    assert response.status_code == 302 and response.location.startswith("/account/sign-in")


def test_someone_else_is_told_whom_the_invitation_is_for(client, owner, mailbox, as_person,
                                                         in_app):
    form_post(client, f"{base(owner)}/members/invite", {"email": "new@example.com",
                                                        "role": "viewer"})
    link = invitation_link(mailbox, "new@example.com")
    as_person(owner.buyer)
    page = client.get(link)
    assert page.status_code == 200
    assert "This invitation is for new@example.com" in page.text
    assert "Join the team" not in page.text
    assert form_post(client, link).status_code == 422
    assert role_of(in_app, owner, owner.buyer) is None


def test_expired_and_tampered_links_are_refused_clearly(client, owner, mailbox, as_person,
                                                        in_app):
    form_post(client, f"{base(owner)}/members/invite", {"email": "new@example.com",
                                                        "role": "viewer"})
    link = invitation_link(mailbox, "new@example.com")
    add_person(in_app, "new@example.com")
    as_person("new@example.com")
    tampered = client.get(link[:-3] + "abc")
    assert tampered.status_code == 404 and "not valid" in tampered.text

    def expire():
        db.session.execute(db.update(Invitation).values(expires_at=utcnow()))
        db.session.commit()
    in_app(expire)
    expired = client.get(link)
    assert expired.status_code == 410 and "expired" in expired.text
    assert form_post(client, link).status_code == 422


def test_bad_invitations_are_refused_on_the_form(client, owner, in_app, as_person):
    empty = form_post(client, f"{base(owner)}/members/invite", {})
    assert empty.status_code == 400 and 'id="invite-email-error"' in empty.text
    bad = form_post(client, f"{base(owner)}/members/invite", {"email": "nope", "role": "viewer"})
    assert bad.status_code == 400 and "valid email" in bad.text
    def join():
        seller = db.session.scalar(db.select(Seller).filter_by(public_id=owner.northwind))
        db.session.add(Membership(seller=seller, person=Buyer(email="joined@example.com"),
                                  role="viewer"))
        db.session.commit()
    in_app(join)
    member = form_post(client, f"{base(owner)}/members/invite",
                       {"email": "Joined@example.com", "role": "admin"})
    assert member.status_code == 409 and "already a member" in member.text
    as_person(owner.emails["admin"])
    page = client.get(f"{base(owner)}/members")
    assert 'value="owner"' not in page.text.split('id="team-invite"')[1]
    as_owner = form_post(client, f"{base(owner)}/members/invite",
                         {"email": "boss@example.com", "role": "owner"})
    assert as_owner.status_code == 400
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(Invitation.id)))) == 0


def test_inviting_again_replaces_the_link(client, owner, mailbox, as_person, in_app):
    form_post(client, f"{base(owner)}/members/invite", {"email": "new@example.com",
                                                        "role": "viewer"})
    first = invitation_link(mailbox, "new@example.com")
    form_post(client, f"{base(owner)}/members/invite", {"email": "new@example.com",
                                                        "role": "admin"})
    second = invitation_link(mailbox, "new@example.com")
    assert first != second
    add_person(in_app, "new@example.com")
    as_person("new@example.com")
    assert client.get(first).status_code == 410
    assert form_post(client, second).status_code == 303
    assert role_of(in_app, owner, "new@example.com") == "admin"


def test_an_invitation_is_withdrawn(client, owner, in_app):
    form_post(client, f"{base(owner)}/members/invite", {"email": "new@example.com",
                                                        "role": "viewer"})
    public_id = in_app(lambda: db.session.scalar(db.select(Invitation.public_id)))
    response = form_post(client, f"{base(owner)}/members/invitations/{public_id}/revoke")
    assert response.status_code == 303
    assert "No invitation is waiting" in client.get(response.location).text
    again = form_post(client, f"{base(owner)}/members/invitations/{public_id}/revoke")
    assert again.status_code == 422 and "withdrawn" in again.text


def test_roles_are_changed_by_whom_the_rules_allow(client, owner, in_app, as_person):
    viewer = member_id(in_app, owner, "viewer")
    response = form_post(client, f"{base(owner)}/members/{viewer}/role", {"role": "support"})
    assert response.status_code == 303
    assert "is now Support" in client.get(response.location).text
    assert role_of(in_app, owner, "viewer") == "support"
    entry = in_app(lambda: db.session.scalar(db.select(AuditEntry)))
    assert (entry.action, entry.before, entry.after) == (
        "member.role_changed", {"role": "viewer"}, {"role": "support"})
    assert entry.actor == in_app(lambda: Actor.member(db.session.scalar(
        db.select(Buyer).filter_by(email=owner.emails["owner"]))))
    # An admin may not touch an owner; nobody demotes the last owner.
    as_person(owner.emails["admin"])
    the_owner = member_id(in_app, owner, "owner")
    refused = form_post(client, f"{base(owner)}/members/{the_owner}/role", {"role": "viewer"})
    assert refused.status_code == 422 and "Only an owner" in refused.text
    assert f'id="role-error-{the_owner}"' in refused.text
    as_person(owner.emails["owner"])
    last = form_post(client, f"{base(owner)}/members/{the_owner}/role", {"role": "admin"})
    assert last.status_code == 422 and "needs an owner" in last.text
    bad = form_post(client, f"{base(owner)}/members/{viewer}/role", {"role": "boss"})
    assert bad.status_code == 400
    assert role_of(in_app, owner, "owner") == "owner"


def test_another_sellers_member_is_not_found_here(client, owner, in_app):
    theirs = member_id(in_app, owner, owner.other_owner, seller=owner.other)
    assert form_post(client, f"{base(owner)}/members/{theirs}/role",
                     {"role": "viewer"}).status_code == 404
    assert client.get(f"{base(owner)}/members/{theirs}/remove").status_code == 404


def test_a_member_is_removed_after_a_confirmation(client, owner, in_app):
    support = member_id(in_app, owner, "support")
    page = client.get(f"{base(owner)}/members/{support}/remove")
    assert page.status_code == 200 and "support@northwind.test" in page.text
    assert role_of(in_app, owner, "support") == "support"  # nothing happened yet
    response = form_post(client, f"{base(owner)}/members/{support}/remove")
    assert response.status_code == 303
    assert role_of(in_app, owner, "support") is None
    assert actions(in_app) == [("member.removed", "member")]


def test_the_ownership_is_transferred_after_a_clear_confirmation(client, owner, in_app):
    page = client.get(f"{base(owner)}/members/transfer")
    assert page.status_code == 200 and "admin@northwind.test" in page.text
    admin = member_id(in_app, owner, "admin")
    unconfirmed = form_post(client, f"{base(owner)}/members/transfer", {"to": str(admin)})
    assert unconfirmed.status_code == 400 and "tick the box" in unconfirmed.text
    assert role_of(in_app, owner, "owner") == "owner"
    done = form_post(client, f"{base(owner)}/members/transfer",
                     {"to": str(admin), "understood": "y"})
    assert done.status_code == 303
    assert (role_of(in_app, owner, "admin"), role_of(in_app, owner, "owner")) == ("owner",
                                                                                 "admin")
    # Now an admin, the former owner may not transfer again.
    assert client.get(f"{base(owner)}/members/transfer").status_code == 403


def test_members_leave_the_last_owner_may_not(client, owner, in_app, as_person):
    page = client.get(f"{base(owner)}/leave")
    assert page.status_code == 200 and "only owner" in page.text
    refused = form_post(client, f"{base(owner)}/leave")
    assert refused.status_code == 422 and "needs an owner" in refused.text
    as_person(owner.emails["viewer"])
    assert "Leave the team" in client.get("/console/?all=1").text
    left = form_post(client, f"{base(owner)}/leave")
    assert left.status_code == 303 and left.location == "/console/"
    assert role_of(in_app, owner, "viewer") is None
    assert client.get(f"{base(owner)}/").status_code == 404
