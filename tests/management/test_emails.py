"""The emails page: add an email, verify it with the code or link sent to it, and find
what was bought with it; make it primary, remove it; nobody else's emails."""

import re

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, BuyerEmail, Card, Seller
from tests.conftest import SELLER_ORIGIN
from tests.management.conftest import code_in, csrf_token

WORK = "ann.work@example.com"


def add(client, email: str):
    page = client.get("/account/emails")
    return client.post("/account/emails", data={"email": email,
                                                "csrf_token": csrf_token(page.text)})


def added(client, email: str = WORK) -> str:
    """Add ``email``; returns its public id."""
    response = add(client, email)
    assert response.status_code == 302, response.text
    return re.search(r"/account/emails/(em_[\w-]+)/verify", response.location).group(1)


def enter(client, email_id: str, code: str):
    page = client.get(f"/account/emails/{email_id}/verify")
    return client.post(f"/account/emails/{email_id}/verify",
                       data={"code": code, "csrf_token": csrf_token(page.text)})


def post(client, path: str):
    return client.post(path, data={"csrf_token": csrf_token(client.get("/account/emails").text)})


def link_in(message) -> str:
    return re.search(r"http://localhost(/account/emails/link/\S+)", message.get_content()).group(1)


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@pytest.fixture
def purchases(client, shops, buy, in_app):
    """Orders bought with Ann's primary email, her work email and Bob's, by name."""
    in_app(lambda: db.session.execute(db.update(Seller).values(origins=[SELLER_ORIGIN]))
           and db.session.commit())
    return {"primary": buy(shops.northwind, shops.coffee, email="ann@example.com").json["order"],
            "work": buy(shops.other, shops.tea, email=WORK).json["order"],
            "bob": buy(shops.northwind, shops.coffee, email="bob@example.com").json["order"]}


def test_a_verified_email_brings_its_purchases(client, purchases, signed_in, mailbox, in_app):
    signed_in()
    page = client.get("/account/").text
    assert purchases["primary"] in page and purchases["work"] not in page

    email_id = added(client, "Ann.Work@Example.com ")
    message = mailbox.last_to(WORK)
    assert code_in(message) in message["Subject"]
    listed = client.get("/account/emails").text
    assert WORK in listed and "Not verified yet" in listed
    assert purchases["work"] not in client.get("/account/").text  # not verified: not yet

    verified = enter(client, email_id, code_in(message))
    assert verified.status_code == 302 and verified.location.endswith("/account/emails")
    listed = client.get("/account/emails").text
    assert "is verified" in listed and "Verified" in listed and "Not verified yet" not in listed
    page = client.get("/account/").text
    assert purchases["primary"] in page and purchases["work"] in page
    assert purchases["bob"] not in page
    assert client.get(f"/account/orders/{purchases['work']}").status_code == 200
    assert client.get("/account/", query_string={"after": purchases["work"]}).status_code == 200
    assert client.get(f"/account/orders/{purchases['bob']}").status_code == 404

    # The checkout made a buyer for the work email: it is now part of Ann's account.
    assert sorted(in_app(lambda: db.session.scalars(db.select(Buyer.email)).all())) == [
        "ann@example.com", "bob@example.com"]
    assert in_app(lambda: db.session.scalars(
        db.select(AuditEntry.action).order_by(AuditEntry.id)).all()) == [
        "email.added", "email.verified", "account.merged"]


def test_signing_in_with_the_other_email_reaches_the_same_account(client, purchases, signed_in,
                                                                   mailbox):
    signed_in()
    email_id = added(client)
    enter(client, email_id, code_in(mailbox.last_to(WORK)))
    post(client, "/account/sign-out")

    signed_in(WORK)
    page = client.get("/account/").text
    assert purchases["primary"] in page and purchases["work"] in page
    assert "<bdi>ann@example.com</bdi>" in page  # the account's primary email


def test_the_link_verifies_for_the_buyer_who_added_the_email(client, purchases, signed_in,
                                                            mailbox, app):
    signed_in()
    added(client)
    link = link_in(mailbox.last_to(WORK))

    other = app.test_client()
    other_page = other.get("/account/sign-in")
    other.post("/account/sign-in", data={"email": "bob@example.com",
                                         "csrf_token": csrf_token(other_page.text)})
    code_page = other.get("/account/sign-in/code")
    other.post("/account/sign-in/code", data={
        "code": code_in(mailbox.last_to("bob@example.com")),
        "csrf_token": csrf_token(code_page.text)})
    refused = other.get(link)
    assert refused.status_code == 403 and "another Buyflow account" in refused.text
    assert purchases["work"] not in other.get("/account/").text

    assert client.get(link).status_code == 302
    assert purchases["work"] in client.get("/account/").text
    again = client.get(link)
    assert again.status_code == 400 and "not right" in again.text


def test_wrong_codes_then_too_many(client, signed_in, mailbox):
    signed_in()
    email_id = added(client)
    code = code_in(mailbox.last_to(WORK))
    for _ in range(4):
        response = enter(client, email_id, wrong(code))
        assert response.status_code == 400 and "This code is not right" in response.text
    response = enter(client, email_id, wrong(code))
    assert response.status_code == 429 and "Too many wrong codes" in response.text
    assert enter(client, email_id, code).status_code == 400  # that code is over

    assert post(client, f"/account/emails/{email_id}/send-code").status_code == 302
    assert enter(client, email_id, code_in(mailbox.last_to(WORK))).status_code == 302
    assert "Not verified yet" not in client.get("/account/emails").text


def test_an_expired_code_is_refused(client, app, signed_in, mailbox, monkeypatch):
    signed_in()
    monkeypatch.setitem(app.config, "SIGN_IN_CODE_MAX_AGE", -1)
    email_id = added(client)
    response = enter(client, email_id, code_in(mailbox.last_to(WORK)))
    assert response.status_code == 400 and "expired" in response.text


@pytest.mark.parametrize("email, status, message", [
    ("not an email", 400, "Please enter a valid email address."),
    ("ANN@example.com", 409, "This email is already one of yours."),
])
def test_emails_that_cannot_be_added(client, signed_in, email, status, message):
    signed_in()
    response = add(client, email)
    assert response.status_code == status and message in response.text
    assert 'aria-invalid="true"' in response.text


def test_an_account_with_saved_cards_is_not_merged(client, purchases, signed_in, mailbox, in_app):
    def give_the_work_account_a_card():
        work = db.session.scalar(db.select(Buyer).filter_by(email=WORK))
        work.cards.append(Card(provider="stripe", provider_method_ref="pm_x", brand="visa",
                               last4="4242", exp_month=12, exp_year=2034, is_default=True))
        db.session.commit()

    in_app(give_the_work_account_a_card)
    signed_in()
    email_id = added(client)
    response = enter(client, email_id, code_in(mailbox.last_to(WORK)))
    assert response.status_code == 409 and "another Buyflow account that keeps more than purchases" in response.text
    assert purchases["work"] not in client.get("/account/").text
    assert "Not verified yet" in client.get("/account/emails").text


def test_someone_elses_email_is_not_found(client, app, signed_in, mailbox, in_app):
    signed_in("bob@example.com")
    bobs = added(client, "bob.work@example.com")
    post(client, "/account/sign-out")
    signed_in()
    assert client.get(f"/account/emails/{bobs}/verify").status_code == 404
    assert client.get("/account/emails/em_nope/verify").status_code == 404
    for action in ("send-code", "remove", "make-primary"):
        assert post(client, f"/account/emails/{bobs}/{action}").status_code == 404
    assert in_app(lambda: db.session.scalar(db.select(BuyerEmail.email))) == "bob.work@example.com"


def test_make_primary_then_remove_the_old_one(client, purchases, signed_in, mailbox):
    signed_in()
    email_id = added(client)
    assert post(client, f"/account/emails/{email_id}/make-primary").status_code == 409  # unverified
    enter(client, email_id, code_in(mailbox.last_to(WORK)))

    response = post(client, f"/account/emails/{email_id}/make-primary")
    assert response.status_code == 302
    page = client.get("/account/emails").text
    assert "is now your primary email" in page and f"<bdi>{WORK}</bdi></span>" in page
    assert re.search(r"<th scope=\"row\"><bdi>ann.work@example.com</bdi></th>\s*<td>"
                     r"<span class=\"badge default\">Primary", page)

    response = post(client, f"/account/emails/{email_id}/remove")  # now the old primary
    assert response.status_code == 302
    assert "ann@example.com is no longer one of your emails" in client.get("/account/emails").text
    page = client.get("/account/").text
    assert purchases["work"] in page and purchases["primary"] not in page


def test_a_removed_email_no_longer_counts(client, purchases, signed_in, mailbox):
    signed_in()
    email_id = added(client)
    enter(client, email_id, code_in(mailbox.last_to(WORK)))
    assert purchases["work"] in client.get("/account/").text
    post(client, f"/account/emails/{email_id}/remove")
    assert "is no longer one of your emails" in client.get("/account/emails").text
    assert purchases["work"] not in client.get("/account/").text
    assert WORK not in client.get("/account/emails").text


def test_codes_are_rate_limited_per_email(client, signed_in):
    signed_in()
    email_id = added(client)
    for _ in range(4):
        assert post(client, f"/account/emails/{email_id}/send-code").status_code == 302
    response = post(client, f"/account/emails/{email_id}/send-code")
    assert response.status_code == 429 and "Too many attempts" in response.text
    added(client, "ann.home@example.com")  # another email is not held back


def test_forms_need_the_csrf_token_and_pages_a_signed_in_buyer(client, signed_in):
    response = client.get("/account/emails")
    assert response.status_code == 302 and "/account/sign-in" in response.location
    signed_in()
    assert client.post("/account/emails", data={"email": WORK}).status_code == 400
    email_id = added(client)
    assert client.post(f"/account/emails/{email_id}/remove").status_code == 400
    assert WORK in client.get("/account/emails").text



def test_an_account_in_a_sellers_team_is_not_merged(client, purchases, signed_in, mailbox,
                                                    in_app, shops):
    """A merge deletes the other account: one with a place in a team is never merged (the
    team would lose its member, or the database refuse the deletion)."""
    from buyflow.models import Membership, Seller

    def make_the_work_account_a_member():
        work = db.session.scalar(db.select(Buyer).filter_by(email=WORK))
        seller = db.session.scalar(db.select(Seller).filter_by(public_id=shops.northwind.public_id))
        db.session.add(Membership(seller=seller, person=work, role="owner"))
        db.session.commit()

    in_app(make_the_work_account_a_member)
    signed_in()
    response = enter(client, added(client), code_in(mailbox.last_to(WORK)))
    assert response.status_code == 409
    assert "another Buyflow account that keeps more than purchases" in response.text
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(Membership.id)))) == 1
