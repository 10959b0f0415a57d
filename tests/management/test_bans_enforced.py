"""Bans and the blacklist at the account's doors: signing in (no code goes out; a code or
link sent before the ban no longer signs in) and adding an email."""

import html

import pytest

from buyflow.extensions import db
from buyflow.models import Ban, BlacklistPattern, Buyer, BuyerEmail
from tests.management.conftest import code_in, csrf_token, link_in

REFUSED = ("This email address cannot be used here. If you think this is a mistake, contact "
           "the shop.")


@pytest.fixture
def ban(in_app):
    def make(kind: str, value: str, buyer_email: str | None = None):
        def add():
            buyer_id = None
            if buyer_email:
                buyer_id = db.session.scalar(db.select(Buyer.id).filter_by(email=buyer_email))
            db.session.add(Ban(kind=kind, value=value, buyer_id=buyer_id, reason="test"))
            db.session.commit()
        in_app(add)
    return make


def _ask(client, email):
    page = client.get("/account/sign-in")
    return client.post("/account/sign-in", data={"email": email,
                                                 "csrf_token": csrf_token(page.text)})


@pytest.mark.parametrize("kind, value, email", [
    ("domain", "fraud.example", "Ann@Shop.Fraud.example"),
    ("email", "ann@example.com", "ANN@example.com"),
])
def test_no_sign_in_code_goes_to_a_banned_email(client, mailbox, ban, kind, value, email):
    ban(kind, value)
    sent = len(mailbox.messages)
    response = _ask(client, email)
    assert response.status_code == 403
    assert REFUSED in html.unescape(response.text)
    assert 'aria-invalid="true"' in response.text
    assert len(mailbox.messages) == sent


def test_a_blacklisted_email_gets_no_code_and_a_neighbour_does(client, mailbox, in_app):
    in_app(lambda: (db.session.add(BlacklistPattern(pattern=r"bot\d+@.*", reason="")),
                    db.session.commit()))
    assert _ask(client, "bot7@example.com").status_code == 403
    assert _ask(client, "bot@example.com").status_code == 302


def test_a_banned_person_cannot_sign_in_with_any_verified_email(client, in_app, ban):
    def make():
        person = Buyer(email="eve@example.com")
        person.emails.append(BuyerEmail(email="eve.work@example.com",
                                        verified_at=db.func.now()))
        db.session.add(person)
        db.session.commit()
    in_app(make)
    ban("person", "eve@example.com", buyer_email="eve@example.com")
    assert _ask(client, "eve@example.com").status_code == 403
    assert _ask(client, "eve.work@example.com").status_code == 403
    assert _ask(client, "eve.home@example.com").status_code == 302


def test_a_code_sent_before_the_ban_no_longer_signs_in(client, ask_code, enter_code, ban,
                                                      in_app):
    code = code_in(ask_code("ann@example.com"))
    ban("domain", "example.com")
    response = enter_code(code)
    assert response.status_code == 403
    assert REFUSED in html.unescape(response.text)
    assert client.get("/account/").status_code == 302  # not signed in
    # No account was made for it either.
    assert in_app(lambda: db.session.scalar(db.select(Buyer).filter_by(
        email="ann@example.com"))) is None


def test_a_link_sent_before_the_ban_no_longer_signs_in(client, ask_code, ban):
    link = link_in(ask_code("ann@example.com"))
    ban("email", "ann@example.com")
    response = client.get(link.removeprefix("http://localhost"))
    assert response.status_code == 403
    assert REFUSED in html.unescape(response.text)
    assert client.get("/account/").status_code == 302


@pytest.mark.parametrize("kind, value", [("email", "ann@example.com"),
                                         ("domain", "example.com")])
def test_a_ban_of_their_email_ends_the_sessions_of_the_signed_in(client, signed_in, ban,
                                                                  kind, value):
    signed_in("ann@example.com")
    assert client.get("/account/").status_code == 200
    ban(kind, value)
    assert client.get("/account/").status_code == 302  # signed out
    assert _ask(client, "ann@example.com").status_code == 403


def test_a_pattern_matching_their_email_ends_their_sessions(client, signed_in, in_app):
    signed_in("ann@example.com")
    in_app(lambda: (db.session.add(BlacklistPattern(pattern=r"ann@.*", reason="")),
                    db.session.commit()))
    assert client.get("/account/").status_code == 302


def test_a_lifted_ban_lets_them_in_again(client, in_app, ban, signed_in):
    ban("domain", "example.com")
    assert _ask(client, "ann@example.com").status_code == 403

    def lift():
        db.session.scalar(db.select(Ban)).lifted_at = db.func.now()
        db.session.commit()
    in_app(lift)
    signed_in("ann@example.com")


@pytest.mark.parametrize("kind, value", [("domain", "fraud.example"),
                                         ("email", "ann.other@fraud.example")])
def test_a_banned_email_cannot_be_added(client, signed_in, mailbox, in_app, ban, kind, value):
    signed_in("ann@example.com")
    ban(kind, value)
    sent = len(mailbox.messages)
    page = client.get("/account/emails")
    response = client.post("/account/emails", data={
        "email": "Ann.Other@fraud.example", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 403
    assert REFUSED in html.unescape(response.text)
    assert len(mailbox.messages) == sent
    assert in_app(lambda: db.session.scalar(db.select(db.func.count()).select_from(
        BuyerEmail))) == 0
