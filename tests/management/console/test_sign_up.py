"""Signing a business up from the console: any signed-in person, back after signing
in; the new seller's secrets shown once, never readable in the cookie; bad input and
bans refused on the page; a limit per person."""

from __future__ import annotations

import html
import re

from buyflow.extensions import db
from buyflow.models import Ban, Buyer, Membership, Seller
from buyflow.models.sellers import hash_api_key
from tests.management.conftest import code_in, csrf_token, form_post

VALID = {"name": "Ann's Beans", "origin": "https://beans.example", "default_locale": "de"}


def _ann(in_app, as_person):
    in_app(lambda: (db.session.add(Buyer(email="ann@example.com")), db.session.commit()))
    as_person("ann@example.com")


def _sellers(in_app):
    return in_app(lambda: db.session.scalars(db.select(Seller)).all())


def test_signed_out_people_sign_in_first_then_come_back(client, ask_code, enter_code):
    response = client.get("/console/sign-up")
    assert response.status_code == 302 and response.location.startswith("/account/sign-in")
    next_url = re.search(r"next=([^&]+)", response.location).group(1)
    assert "console/sign-up" in next_url
    back = enter_code(code_in(ask_code("ann@example.com", next_url="/console/sign-up")))
    assert back.status_code == 302 and back.location == "/console/sign-up"
    page = client.get(back.location)
    assert page.status_code == 200
    assert "Business name" in page.text and 'name="origin"' in page.text
    assert "ann@example.com" in page.text  # who will own it


def test_a_business_signs_up_and_sees_its_secrets_once(client, in_app, as_person):
    _ann(in_app, as_person)
    response = form_post(client, "/console/sign-up", VALID)
    assert response.status_code == 303
    [seller] = _sellers(in_app)
    assert response.location == f"/console/{seller.public_id}/welcome"
    assert (seller.name, seller.origins, seller.default_locale, seller.status) == (
        "Ann's Beans", ["https://beans.example"], "de", "pending")
    with client.session_transaction() as session:
        kept = str(dict(session))
    page = client.get(response.location)
    assert page.status_code == 200
    assert "is signed up" in page.text and "approved" in page.text  # flash, pending banner
    api_key, signing_secret = [html.unescape(s) for s in
                               re.findall(r'<p class="secret">([^<]+)</p>', page.text)]
    assert in_app(lambda: db.session.scalar(db.select(Seller)).api_keys[0].key_hash) \
        == hash_api_key(api_key)
    assert api_key not in kept and signing_secret not in kept  # encrypted in the cookie
    again = client.get(response.location)
    assert api_key not in again.text and "shown once" in again.text
    owner = in_app(lambda: db.session.scalar(db.select(Membership)))
    assert owner.role == "owner"


def test_without_approval_a_business_is_active_at_once(app, client, in_app, as_person,
                                                      monkeypatch):
    monkeypatch.setitem(app.config, "SELLER_SIGNUP_NEEDS_APPROVAL", False)
    _ann(in_app, as_person)
    assert form_post(client, "/console/sign-up", VALID).status_code == 303
    assert _sellers(in_app)[0].status == "active"


def test_bad_input_is_shown_on_its_field_and_nothing_is_made(client, in_app, as_person):
    _ann(in_app, as_person)
    empty = form_post(client, "/console/sign-up", {})
    assert empty.status_code == 400
    for error_id in ("name-error", "origin-error", "locale-error"):
        assert f'id="{error_id}"' in empty.text
    bad = form_post(client, "/console/sign-up", {**VALID, "origin": "https://beans.example/shop"})
    assert bad.status_code == 400
    assert 'id="origin-error"' in bad.text and "no path" in bad.text
    assert 'aria-describedby="origin-hint origin-error"' in bad.text
    bad_locale = form_post(client, "/console/sign-up", {**VALID, "default_locale": "xx"})
    assert bad_locale.status_code == 400
    assert _sellers(in_app) == []


def test_a_banned_person_cannot_sign_up(client, in_app, as_person):
    _ann(in_app, as_person)
    page = client.get("/console/sign-up")
    in_app(lambda: (db.session.add(Ban(kind="email", value="ann@example.com")),
                    db.session.commit()))
    # Banned while on the page: signed out, the form sends them to sign in again.
    response = client.post("/console/sign-up", data={**VALID,
                                                     "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302 and "/account/sign-in" in response.location
    assert _sellers(in_app) == []


def test_sign_ups_are_limited_per_person_only_successes_count(app, client, in_app, as_person,
                                                              monkeypatch):
    monkeypatch.setitem(app.config, "SELLER_SIGNUP_LIMIT_PER_PERSON", "1 per day")
    _ann(in_app, as_person)
    assert form_post(client, "/console/sign-up", {}).status_code == 400
    assert form_post(client, "/console/sign-up", VALID).status_code == 303
    assert form_post(client, "/console/sign-up", VALID).status_code == 429
    assert len(_sellers(in_app)) == 1


def test_the_welcome_page_is_for_owners_and_admins(client, team, as_person):
    as_person(team.emails["support"])
    assert client.get(f"/console/{team.northwind}/welcome").status_code == 403
    as_person(team.emails["owner"])
    page = client.get(f"/console/{team.northwind}/welcome")
    assert page.status_code == 200 and 'class="secret"' not in page.text
