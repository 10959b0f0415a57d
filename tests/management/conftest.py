"""Management pages are tested as a browser uses them: one request, one app context. No
app context stays open around the requests (Flask would share it, and with it ``g``,
between them); data is made and checked in short contexts of its own."""

import json
import re
from types import SimpleNamespace

import pytest

from buyflow.extensions import db
from buyflow.models import Buyer
from tests.conftest import make_product, make_seller


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def code_in(message) -> str:
    return re.search(r"^[ \t]+(\d{6})\s*$", message.get_content(), re.M).group(1)


def link_in(message) -> str:
    return re.search(r"(http://\S+/account/sign-in/link/\S+)", message.get_content()).group(1)


@pytest.fixture
def ask_code(client, mailbox):
    """Ask for a sign-in code for ``email``; returns the email sent."""

    def ask(email: str = "ann@example.com", next_url: str | None = None):
        page = client.get("/account/sign-in", query_string={"next": next_url} if next_url else {})
        response = client.post(page.request.full_path, data={
            "email": email, "csrf_token": csrf_token(page.text)})
        assert response.status_code == 302, response.text
        return mailbox.last_to(email.lower())

    return ask


@pytest.fixture
def enter_code(client):
    def enter(code: str):
        page = client.get("/account/sign-in/code")
        return client.post("/account/sign-in/code",
                           data={"code": code, "csrf_token": csrf_token(page.text)})

    return enter


@pytest.fixture
def signed_in(ask_code, enter_code):
    """Sign ``email`` in through its emailed code."""

    def sign_in(email: str = "ann@example.com"):
        response = enter_code(code_in(ask_code(email)))
        assert response.status_code == 302 and response.location.endswith("/account/")
        return response

    return sign_in


@pytest.fixture
def in_app(app):
    """``in_app(fn)``: run ``fn()`` in a short app context of its own, return its result."""

    def run(fn):
        with app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()

    return run


@pytest.fixture
def shops(in_app):
    """Two sellers with a product each, as plain ids."""

    def make():
        northwind = make_seller()
        coffee = make_product(northwind)
        other = make_seller(name="Other Shop", origins=["http://localhost:5998"],
                            api_key="sk_test_other", signing_secret="sign-other")
        tea = make_product(other, name="Green tea", amount=900)
        ids = lambda o: SimpleNamespace(public_id=o.public_id)  # noqa: E731
        return SimpleNamespace(northwind=ids(northwind), coffee=ids(coffee),
                               other=ids(other), tea=ids(tea))

    return in_app(make)


def card_data(html: str) -> dict:
    return json.loads(re.search(r'id="card-data">(.*?)</script>', html, re.S).group(1))


@pytest.fixture
def add_card(client, confirm_card_setup):
    """Add a card with ``number`` the way the page's script does; returns the answer."""

    def add(number: str = "4242424242424242"):
        page = client.get("/account/cards/new")
        assert page.status_code == 200
        client_secret = card_data(page.text)["client_secret"]
        assert confirm_card_setup(client_secret, number) == "succeeded"
        return client.post("/account/cards/new", data={
            "setup": client_secret.split("_secret_")[0], "csrf_token": csrf_token(page.text)})

    return add


def stored_cards(in_app, email="ann@example.com"):
    """The buyer's cards as (public id, last 4, is default, provider reference)."""
    def read():
        buyer = db.session.scalar(db.select(Buyer).filter_by(email=email))
        return [(c.public_id, c.last4, c.is_default, c.provider_method_ref) for c in buyer.cards]
    return in_app(read)


@pytest.fixture
def as_person(client, in_app):
    """``as_person(email)``: this client is signed in as the person with ``email`` (their
    session as the sign-in page starts it); ``as_person(None)`` signs out."""

    def sign_in(email: str | None):
        with client.session_transaction() as session:
            session.clear()
            if email is None:
                return
            person = in_app(lambda: db.session.scalar(db.select(Buyer).filter_by(email=email)))
            session["buyer"], session["epoch"] = person.id, person.session_epoch
            session["sid"] = "test"
            session.permanent = True

    return sign_in


TEAM = {"owner": "owner@northwind.test", "admin": "admin@northwind.test",
        "support": "support@northwind.test", "viewer": "viewer@northwind.test"}
OTHER_OWNER = "owner@other.test"
OPERATOR = "operator@buyflow.test"
BUYER = "buyer@example.com"


@pytest.fixture
def team(in_app):
    """Northwind with a member of each role, another seller with its owner, an operator
    and a buyer who is nothing else; as public ids and emails."""
    from buyflow.models import Membership

    def make():
        northwind, other = make_seller(), make_seller(
            name="Other Shop", origins=["http://localhost:5998"], api_key="sk_test_other",
            signing_secret="sign-other")
        for role, email in TEAM.items():
            person = Buyer(email=email)
            db.session.add(Membership(seller=northwind, person=person, role=role))
        db.session.add(Membership(seller=other, person=Buyer(email=OTHER_OWNER), role="owner"))
        db.session.add_all([Buyer(email=OPERATOR, is_operator=True), Buyer(email=BUYER)])
        db.session.commit()
        return SimpleNamespace(northwind=northwind.public_id, other=other.public_id,
                               emails=dict(TEAM), other_owner=OTHER_OWNER,
                               operator=OPERATOR, buyer=BUYER)

    return in_app(make)


def form_post(client, url: str, data: dict | None = None, **kwargs):
    """POST ``data`` to ``url`` as the page's form does, with a CSRF token of this
    client's session."""
    page = client.get("/account/sign-in")
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(page.text)},
                       **kwargs)
