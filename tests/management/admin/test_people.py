"""The operator admin's People pages: search by any email, the list by pages, a person's
page; deactivating (signed out everywhere, sign-in refused) and reactivating; emails
added (verified or not), marked verified by hand, removed; seller roles granted and
revoked (a seller keeps an owner); the operator role granted and revoked (the service
keeps an operator). Each change is audited under the operator who made it."""

from __future__ import annotations

import re

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, BuyerEmail, Membership, Seller
from buyflow.models._base import utcnow
from tests.management.conftest import code_in, form_post, link_in


@pytest.fixture
def operator_client(client, team, as_person):
    as_person(team.operator)
    return client


def person_id(in_app, email: str) -> int:
    return in_app(lambda: db.session.scalar(db.select(Buyer.id).filter_by(email=email)))


def person(in_app, email: str) -> dict:
    def read():
        found = db.session.scalar(db.select(Buyer).filter_by(email=email))
        return {"operator": found.is_operator, "deactivated": found.deactivated_at is not None,
                "epoch": found.session_epoch,
                "emails": {e.email: e.verified_at is not None for e in found.emails},
                "roles": {m.seller.public_id: m.role for m in db.session.scalars(
                    db.select(Membership).filter_by(buyer_id=found.id))}}
    return in_app(read)


def audit(in_app, action_prefix: str = "") -> list[tuple]:
    return in_app(lambda: [(e.action, e.actor_type, e.actor_id) for e in db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.action.startswith(action_prefix))
        .order_by(AuditEntry.id))])


def emails_listed(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/people/\d+"><bdi>([^<]+)</bdi>', html)


def page_of(in_app, email: str) -> str:
    return f"/admin/people/{person_id(in_app, email)}"


# --- The list ---------------------------------------------------------------------


def test_search_by_primary_or_other_email(operator_client, team, in_app):
    def other_email():
        buyer = db.session.scalar(db.select(Buyer).filter_by(email=team.buyer))
        buyer.emails.append(BuyerEmail(email="ann.private_1@mail.test"))
        db.session.commit()
    in_app(other_email)
    assert emails_listed(operator_client.get("/admin/people?q=private").text) == [team.buyer]
    assert emails_listed(operator_client.get("/admin/people?q=NORTHWIND.test").text) == [
        team.emails[role] for role in ("viewer", "support", "admin", "owner")]
    # "_" is a character here, not a wildcard.
    assert emails_listed(operator_client.get("/admin/people?q=e_1").text) == [team.buyer]
    assert emails_listed(operator_client.get("/admin/people?q=at_1").text) == []
    assert "Nobody matches." in operator_client.get("/admin/people?q=zzz").text


def test_only_operators_or_deactivated_people(operator_client, team, in_app):
    assert emails_listed(operator_client.get("/admin/people?kind=operators").text) == [
        team.operator]
    assert emails_listed(operator_client.get("/admin/people?kind=deactivated").text) == []


def test_the_list_pages_by_keyset(operator_client, team, in_app, monkeypatch):
    from management.admin import people

    monkeypatch.setattr(people, "PAGE_SIZE", 4)
    seen, url = [], "/admin/people"
    while url:
        page = operator_client.get(url)
        assert page.status_code == 200
        seen += emails_listed(page.text)
        found = re.search(r'href="(/admin/people\?after=\d+)"', page.text)
        url = found.group(1) if found else None
    assert len(seen) == len(set(seen)) == 7  # the team's 4, the other owner, operator, buyer
    assert operator_client.get("/admin/people?after=x").status_code == 404


def test_a_persons_page(operator_client, team, in_app):
    page = operator_client.get(page_of(in_app, team.emails["owner"]))
    assert page.status_code == 200
    assert f"<bdi>{team.emails['owner']}</bdi>" in page.text
    assert "<bdi>Northwind Coffee</bdi>" in page.text and "Owner" in page.text
    assert operator_client.get("/admin/people/999999").status_code == 404
    assert operator_client.get("/admin/people/abc").status_code == 404


# --- Deactivating -----------------------------------------------------------------


def test_a_deactivated_person_is_signed_out_everywhere_and_cannot_sign_in(
        app, team, in_app, ask_code, enter_code):
    # The buyer is signed in on another device.
    device = app.test_client()
    with device.session_transaction() as session:
        buyer = in_app(lambda: db.session.scalar(db.select(Buyer).filter_by(email=team.buyer)))
        session.update(buyer=buyer.id, epoch=buyer.session_epoch, sid="x")
    assert device.get("/account/").status_code == 200

    operator = app.test_client()
    with operator.session_transaction() as session:
        me = in_app(lambda: db.session.scalar(db.select(Buyer).filter_by(email=team.operator)))
        session.update(buyer=me.id, epoch=me.session_epoch, sid="y")
    url = page_of(in_app, team.buyer)
    done = form_post(operator, f"{url}/deactivate", {"reason": "Card testing"})
    assert done.status_code == 303
    assert person(in_app, team.buyer)["deactivated"]
    assert "signed out everywhere" in operator.get(url).text

    assert device.get("/account/").status_code == 302  # that session is over
    refused = enter_code(code_in(ask_code(team.buyer)))
    assert refused.status_code == 403 and "has been deactivated" in refused.text
    entries = in_app(lambda: [(e.action, e.before, e.after, e.reason) for e in
                              db.session.scalars(db.select(AuditEntry).where(
                                  AuditEntry.action == "person.deactivated"))])
    assert entries == [("person.deactivated", {"deactivated": False}, {"deactivated": True},
                        "Card testing")]


def test_reactivated_they_sign_in_again_but_old_sessions_stay_ended(
        operator_client, team, in_app, app, signed_in):
    url = page_of(in_app, team.buyer)
    epoch = person(in_app, team.buyer)["epoch"]
    assert form_post(operator_client, f"{url}/deactivate").status_code == 303
    assert form_post(operator_client, f"{url}/reactivate").status_code == 303
    state = person(in_app, team.buyer)
    assert not state["deactivated"] and state["epoch"] == epoch + 1
    other = app.test_client()
    with other.session_transaction() as session:
        session.update(buyer=person_id(in_app, team.buyer), epoch=epoch, sid="old")
    assert other.get("/account/").status_code == 302
    signed_in(team.buyer)  # through the mailed code, as the buyer does
    me = str(person_id(in_app, team.operator))
    assert audit(in_app, "person.") == [("person.deactivated", "operator", me),
                                        ("person.reactivated", "operator", me)]


def test_a_link_does_not_sign_a_deactivated_person_in(client, team, in_app, ask_code,
                                                      operator_client):
    form_post(operator_client, f"{page_of(in_app, team.buyer)}/deactivate")
    link = link_in(ask_code(team.buyer))
    response = client.get(link.replace("http://localhost", ""))
    assert response.status_code == 403 and "has been deactivated" in response.text


def test_an_operator_cannot_deactivate_themself(operator_client, team, in_app):
    url = page_of(in_app, team.operator)
    assert "You cannot deactivate yourself" in operator_client.get(url).text
    response = form_post(operator_client, f"{url}/deactivate")
    assert response.status_code == 422 and "You cannot deactivate yourself" in response.text
    assert not person(in_app, team.operator)["deactivated"]
    assert audit(in_app, "person.") == []


def test_the_last_operator_who_can_sign_in_is_never_deactivated(operator_client, team,
                                                                in_app):
    """Another operator, deactivated already, does not count; so the operator who acts
    is the last one and the target (a second, active operator) may go — but not both."""
    def second_operator():
        db.session.add(Buyer(email="second@buyflow.test", is_operator=True))
        db.session.commit()
    in_app(second_operator)
    url = page_of(in_app, "second@buyflow.test")
    assert form_post(operator_client, f"{url}/deactivate").status_code == 303
    # Now only the acting operator can sign in: they cannot deactivate themself, and
    # cannot revoke their own operator role either.
    mine = page_of(in_app, team.operator)
    revoked = form_post(operator_client, f"{mine}/operator/revoke")
    assert revoked.status_code == 422 and "last operator" in revoked.text
    assert person(in_app, team.operator)["operator"]


def test_deactivating_twice_changes_nothing_more(operator_client, team, in_app):
    url = f"{page_of(in_app, team.buyer)}/deactivate"
    form_post(operator_client, url)
    again = form_post(operator_client, url)
    assert again.status_code == 303
    assert "deactivated already" in operator_client.get(again.location).text
    assert len(audit(in_app, "person.deactivated")) == 1


# --- Emails -----------------------------------------------------------------------


def test_add_emails_verified_or_not_then_verify_and_remove(operator_client, team, in_app):
    url = page_of(in_app, team.buyer)
    assert form_post(operator_client, f"{url}/emails",
                     {"email": "Ann.Work@Example.com", "verified": "y"}).status_code == 303
    assert form_post(operator_client, f"{url}/emails",
                     {"email": "ann.home@example.com"}).status_code == 303
    assert person(in_app, team.buyer)["emails"] == {"ann.work@example.com": True,
                                                   "ann.home@example.com": False}
    page = operator_client.get(url).text
    home = in_app(lambda: db.session.scalar(db.select(BuyerEmail.public_id).filter_by(
        email="ann.home@example.com")))
    assert "Mark verified" in page

    assert form_post(operator_client, f"{url}/emails/verify",
                     {"email_id": home}).status_code == 303
    assert person(in_app, team.buyer)["emails"]["ann.home@example.com"] is True
    again = form_post(operator_client, f"{url}/emails/verify", {"email_id": home})
    assert again.status_code == 422 and "already verified" in again.text

    assert form_post(operator_client, f"{url}/emails/remove",
                     {"email_id": home}).status_code == 303
    assert person(in_app, team.buyer)["emails"] == {"ann.work@example.com": True}
    me = str(person_id(in_app, team.operator))
    assert audit(in_app, "email.") == [("email.added", "operator", me),
                                       ("email.added", "operator", me),
                                       ("email.verified", "operator", me),
                                       ("email.removed", "operator", me)]


@pytest.mark.parametrize("email, message", [
    ("Carol@example.com", "belongs to another person"),  # another's primary
    ("buyer@example.com", "already one of this person"),
    ("not an email", "valid email address"),
])
def test_an_email_that_is_not_theirs_to_add_is_refused(operator_client, team, in_app, email,
                                                       message):
    def carol():
        db.session.add(Buyer(email="carol@example.com"))
        db.session.commit()
    in_app(carol)
    url = page_of(in_app, team.buyer)
    response = form_post(operator_client, f"{url}/emails", {"email": email})
    assert response.status_code == 422 and message in response.text
    assert person(in_app, team.buyer)["emails"] == {}


def test_another_persons_verified_email_is_refused_an_unverified_one_moves(
        operator_client, team, in_app):
    def others():
        owner = db.session.scalar(db.select(Buyer).filter_by(email=team.emails["owner"]))
        owner.emails += [BuyerEmail(email="kept@example.com", verified_at=utcnow()),
                         BuyerEmail(email="unproved@example.com")]
        db.session.commit()
    in_app(others)
    url = page_of(in_app, team.buyer)
    refused = form_post(operator_client, f"{url}/emails", {"email": "kept@example.com"})
    assert refused.status_code == 422 and "belongs to another person" in refused.text
    assert form_post(operator_client, f"{url}/emails",
                     {"email": "unproved@example.com"}).status_code == 303
    assert person(in_app, team.buyer)["emails"] == {"unproved@example.com": False}
    assert person(in_app, team.emails["owner"])["emails"] == {"kept@example.com": True}


def test_an_email_that_is_another_persons_primary_is_not_marked_verified(
        operator_client, team, in_app):
    def unverified_of_another_primary():
        buyer = db.session.scalar(db.select(Buyer).filter_by(email=team.buyer))
        buyer.emails.append(BuyerEmail(email=team.emails["viewer"]))
        db.session.commit()
        return buyer.emails[0].public_id
    row = in_app(unverified_of_another_primary)
    response = form_post(operator_client, f"{page_of(in_app, team.buyer)}/emails/verify",
                         {"email_id": row})
    assert response.status_code == 422 and "belongs to another person" in response.text


def test_an_email_of_another_person_cannot_be_named(operator_client, team, in_app):
    def theirs():
        owner = db.session.scalar(db.select(Buyer).filter_by(email=team.emails["owner"]))
        owner.emails.append(BuyerEmail(email="owners@example.com"))
        db.session.commit()
        return owner.emails[0].public_id
    row = in_app(theirs)
    url = page_of(in_app, team.buyer)
    for action in ("verify", "remove"):
        response = form_post(operator_client, f"{url}/emails/{action}", {"email_id": row})
        assert response.status_code == 422 and "not one of this person" in response.text
    assert person(in_app, team.emails["owner"])["emails"] == {"owners@example.com": False}


def test_an_empty_form_is_refused_with_its_errors(operator_client, team, in_app):
    url = page_of(in_app, team.buyer)
    response = form_post(operator_client, f"{url}/emails", {"email": ""})
    assert response.status_code == 400 and 'id="email-error"' in response.text
    response = form_post(operator_client, f"{url}/roles", {"seller": "", "role": "viewer"})
    assert response.status_code == 400 and 'id="seller-error"' in response.text


# --- Roles ------------------------------------------------------------------------


def test_grant_change_and_revoke_a_seller_role(operator_client, team, in_app):
    url = page_of(in_app, team.buyer)
    assert form_post(operator_client, f"{url}/roles",
                     {"seller": team.northwind, "role": "support"}).status_code == 303
    assert person(in_app, team.buyer)["roles"] == {team.northwind: "support"}
    assert form_post(operator_client, f"{url}/roles",
                     {"seller": team.northwind, "role": "owner"}).status_code == 303
    assert person(in_app, team.buyer)["roles"] == {team.northwind: "owner"}
    assert form_post(operator_client, f"{url}/roles/revoke",
                     {"seller": team.northwind}).status_code == 303
    assert person(in_app, team.buyer)["roles"] == {}
    me = str(person_id(in_app, team.operator))
    assert audit(in_app, "member.") == [("member.added", "operator", me),
                                        ("member.role_changed", "operator", me),
                                        ("member.removed", "operator", me)]


def test_the_last_owner_keeps_their_role(operator_client, team, in_app):
    url = page_of(in_app, team.other_owner)
    for path, data in [("roles/revoke", {"seller": team.other}),
                       ("roles", {"seller": team.other, "role": "admin"})]:
        response = form_post(operator_client, f"{url}/{path}", data)
        assert response.status_code == 422 and "last owner" in response.text
    assert person(in_app, team.other_owner)["roles"] == {team.other: "owner"}


@pytest.mark.parametrize("data, message", [
    ({"seller": "sel_nope", "role": "viewer"}, "There is no seller with this id."),
    ({"seller": "__SELLER__", "role": "emperor"}, "Choose one of the roles."),
])
def test_a_role_grant_naming_nothing_real_is_refused(operator_client, team, in_app, data,
                                                     message):
    data = {k: v.replace("__SELLER__", team.northwind) for k, v in data.items()}
    response = form_post(operator_client, f"{page_of(in_app, team.buyer)}/roles", data)
    assert response.status_code == 422 and message in response.text
    assert person(in_app, team.buyer)["roles"] == {}


def test_revoking_a_role_they_do_not_have(operator_client, team, in_app):
    response = form_post(operator_client, f"{page_of(in_app, team.buyer)}/roles/revoke",
                         {"seller": team.northwind})
    assert response.status_code == 422 and "not a member of that seller" in response.text


# --- Operators --------------------------------------------------------------------


def test_grant_then_revoke_the_operator_role(operator_client, team, in_app, client,
                                             as_person):
    url = page_of(in_app, team.buyer)
    assert form_post(operator_client, f"{url}/operator/grant").status_code == 303
    assert person(in_app, team.buyer)["operator"]
    assert form_post(operator_client, f"{url}/operator/revoke").status_code == 303
    assert not person(in_app, team.buyer)["operator"]
    me = str(person_id(in_app, team.operator))
    assert audit(in_app, "person.operator") == [("person.operator_granted", "operator", me),
                                                ("person.operator_revoked", "operator", me)]


def test_the_last_operator_cannot_revoke_their_own_role(operator_client, team, in_app):
    url = page_of(in_app, team.operator)
    assert "This is the last operator" in operator_client.get(url).text
    response = form_post(operator_client, f"{url}/operator/revoke")
    assert response.status_code == 422 and "last operator" in response.text
    assert person(in_app, team.operator)["operator"]


def test_an_operator_who_is_not_the_last_may_revoke_their_own_role(operator_client, team,
                                                                   in_app):
    form_post(operator_client, f"{page_of(in_app, team.buyer)}/operator/grant")
    response = form_post(operator_client, f"{page_of(in_app, team.operator)}/operator/revoke")
    assert response.status_code == 303 and response.location == "/"
    assert not person(in_app, team.operator)["operator"]
    assert operator_client.get("/admin/people").status_code == 403


def test_a_deactivated_person_cannot_be_made_an_operator(operator_client, team, in_app):
    url = page_of(in_app, team.buyer)
    form_post(operator_client, f"{url}/deactivate")
    response = form_post(operator_client, f"{url}/operator/grant")
    assert response.status_code == 422 and "cannot be made an operator" in response.text
    assert not person(in_app, team.buyer)["operator"]
