"""The console's Developers section: API keys, signing secrets, origins and the embed
snippet, as an owner or admin uses them; what support and other sellers may not do."""

from __future__ import annotations

import html
import re

import pytest

from buyflow.embed import integrity, library_path, library_version
from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, Product, Seller, SellerApiKey
from buyflow.models.sellers import hash_api_key
from buyflow.sellers.accounts import secret_fingerprint
from tests.management.conftest import form_post
from tests.management.console.money_pages import flashed, send


def base(team) -> str:
    return f"/console/{team.northwind}/developers"


def northwind(team) -> Seller:
    return db.session.scalar(db.select(Seller).filter_by(public_id=team.northwind))


def audited(in_app, action: str) -> list[AuditEntry]:
    return in_app(lambda: db.session.scalars(
        db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)).all())


def shown_secret(page: str) -> str:
    return html.unescape(re.search(r'id="new-secret"[^>]*><code>([^<]+)</code>', page).group(1))


def create_key(client, team, name: str, page: str | None = None):
    """Create a key named ``name`` with the page's form (``page``, or the page now)."""
    return send(client, page or client.get(base(team)).text, "/developers/keys", name=name)


@pytest.fixture
def owner(team, as_person):
    as_person(team.emails["owner"])
    return team


def test_the_page_lists_keys_secrets_origins_and_never_a_secret(client, owner, in_app):
    page = client.get(base(owner))
    assert page.status_code == 200
    assert "no-store" in page.headers["Cache-Control"]
    text = page.text
    assert "sk_…wind" in text and "Unnamed key" in text and "Never" in text
    assert "sign_…" in text and "http://localhost:5999" in text
    assert "sk_test_northwind" not in text and "sign-northwind" not in text
    assert hash_api_key("sk_test_northwind") not in text


def test_the_snippet_pins_the_library_with_its_sri_hash_and_names_the_product(
        app, client, owner, in_app):
    product_id = in_app(lambda: _product(owner))
    page = client.get(base(owner), query_string={"product": product_id, "mode": "window",
                                                 "label": "Buy <beans>"})
    with app.app_context():
        version, sri = library_version(app), integrity(library_path(app))
    text = html.unescape(page.text)
    assert (f'<script src="http://localhost/embed/{version}/buyflow.js" integrity="{sri}" '
            f'crossorigin="anonymous" defer></script>') in text
    assert (f'<button type="button" data-buyflow-seller="{owner.northwind}" '
            f'data-buyflow-product="{product_id}" data-buyflow-mode="window">'
            f'Buy &lt;beans&gt;</button>') in text
    # The preview opens the real flow in a tab, as a buyer on the seller's origin.
    assert (f'/flow/?seller={owner.northwind}&product={product_id}'
            f'&origin=http://localhost:5999') in text
    # Our own script only: the console's CSP is not loosened for it.
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-src 'none'" in page.headers["Content-Security-Policy"]


def _product(team) -> str:
    product = Product(seller=northwind(team), name="Beans", amount=1450, currency="EUR")
    db.session.add(product)
    db.session.commit()
    return product.public_id


def test_a_new_key_is_named_shown_once_and_stored_hashed(client, owner, in_app):
    response = create_key(client, owner, "  Production   server ")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    api_key = shown_secret(response.text)
    assert api_key.startswith("sk_")
    stored = in_app(lambda: [(k.name, k.key_hash, k.hint) for k in northwind(owner).api_keys])
    assert stored[-1] == ("Production server", hash_api_key(api_key), api_key[-4:])
    assert api_key not in repr(stored)
    # It works at once, and it is never shown again.
    assert client.get("/api/v1/orders", headers={
        "Authorization": f"Bearer {api_key}"}).status_code == 200
    assert api_key not in client.get(base(owner)).text
    [entry] = audited(in_app, "api_key.created")
    assert entry.after == {"name": "Production server", "hint": api_key[-4:]}
    assert api_key not in repr((entry.detail, entry.after, entry.before, entry.subject))


def test_the_same_key_form_sent_twice_makes_one_key(client, owner, in_app):
    page = client.get(base(owner)).text
    first = create_key(client, owner, "Production", page)
    assert first.status_code == 200 and shown_secret(first.text).startswith("sk_")
    again = create_key(client, owner, "Production", page)  # a double click, or back + send
    assert again.status_code == 409
    assert "This form made its key already" in html.unescape(again.text)
    assert shown_secret(first.text) not in again.text
    assert in_app(lambda: [k.name for k in northwind(owner).api_keys])[1:] == ["Production"]
    assert len(audited(in_app, "api_key.created")) == 1
    # The page it answers with has a new form: the next key is made.
    assert create_key(client, owner, "Staging", again.text).status_code == 200
    assert in_app(lambda: len(northwind(owner).api_keys)) == 3


def test_the_same_key_form_sent_at_the_same_moment_makes_one_key(app, client, owner, in_app):
    from tests.conftest import at_once
    from tests.management.console.money_pages import form_of

    action, fields = form_of(client.get(base(owner)).text, "/developers/keys")
    cookie = client.get_cookie("session")

    def send_form(_n):
        other = app.test_client()
        other.set_cookie("session", cookie.value)
        return other.post(action, data={**fields, "name": "Production"}).status_code

    answers = at_once(send_form, range(4), workers=4)
    assert sorted(answers) == [200, 409, 409, 409]
    assert in_app(lambda: len(northwind(owner).api_keys)) == 2
    assert len(audited(in_app, "api_key.created")) == 1


@pytest.mark.parametrize("name, error", [("", "Give the key a name"),
                                         ("   ", "Give the key a name"),
                                         ("x" * 101, "at most 100 characters")])
def test_a_key_needs_a_name_of_at_most_100_characters(client, owner, in_app, name, error):
    response = create_key(client, owner, name)
    assert response.status_code == 400
    assert error in html.unescape(response.text)
    assert 'aria-invalid="true"' in response.text
    assert in_app(lambda: len(northwind(owner).api_keys)) == 1
    assert audited(in_app, "api_key.created") == []


def test_revoking_a_key_asks_first_says_it_is_the_last_and_refuses_its_calls(
        client, owner, in_app):
    key_id = in_app(lambda: northwind(owner).api_keys[0].id)
    confirm = client.get(f"{base(owner)}/keys/{key_id}/revoke")
    assert confirm.status_code == 200
    assert "your only active key" in confirm.text
    assert in_app(lambda: northwind(owner).api_keys[0].revoked_at) is None  # a GET revokes nothing

    response = form_post(client, f"{base(owner)}/keys/{key_id}/revoke")
    assert response.status_code == 303
    assert "is revoked" in client.get(response.location).text
    assert in_app(lambda: northwind(owner).api_keys[0].revoked_at) is not None
    assert client.get("/api/v1/orders", headers={
        "Authorization": "Bearer sk_test_northwind"}).status_code == 401
    assert "No key is active" in client.get(base(owner)).text

    again = form_post(client, f"{base(owner)}/keys/{key_id}/revoke")
    assert again.status_code == 303
    assert "revoked already" in client.get(again.location).text
    assert len(audited(in_app, "api_key.revoked")) == 1


def test_revoking_one_of_two_keys_says_nothing_of_the_last(client, owner, in_app):
    create_key(client, owner, "Backup")
    key_id = in_app(lambda: northwind(owner).api_keys[0].id)
    assert "your only active key" not in client.get(f"{base(owner)}/keys/{key_id}/revoke").text


def test_another_sellers_key_is_not_found_and_nothing_is_revealed(client, team, as_person,
                                                                  in_app):
    other_key = in_app(lambda: db.session.scalar(db.select(Seller).filter_by(
        public_id=team.other)).api_keys[0].id)
    as_person(team.emails["owner"])
    for response in (client.get(f"{base(team)}/keys/{other_key}/revoke"),
                     form_post(client, f"{base(team)}/keys/{other_key}/revoke")):
        assert response.status_code == 404
        assert "sk_…ther" not in response.text and "Other Shop" not in response.text
    assert in_app(lambda: db.session.get(SellerApiKey, other_key).revoked_at) is None


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_support_and_viewers_may_not_touch_keys_or_secrets(client, team, as_person, in_app,
                                                          role):
    as_person(team.emails[role])
    assert client.get(base(team)).status_code == 403
    assert form_post(client, f"{base(team)}/keys", {"name": "Mine"}).status_code == 403
    shown = in_app(lambda: secret_fingerprint(northwind(team).signing_secrets[-1]))
    assert form_post(client, f"{base(team)}/signing-secrets",
                     {"shown": shown}).status_code == 403
    assert form_post(client, f"{base(team)}/origins",
                     {"origin": "https://evil.example"}).status_code == 403
    assert in_app(lambda: (len(northwind(team).api_keys), len(northwind(team).signing_secrets),
                           northwind(team).origins)) == (1, 1, ["http://localhost:5999"])
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(AuditEntry.id)))) == 0


def test_an_admin_may(client, team, as_person):
    as_person(team.emails["admin"])
    assert client.get(base(team)).status_code == 200
    assert create_key(client, team, "Admin's").status_code == 200


def test_a_rotated_signing_secret_is_shown_once_and_the_old_one_still_verifies(
        client, owner, in_app):
    from buyflow.sellers.requests import sign_purchase_request, verify_purchase_request

    shown = in_app(lambda: secret_fingerprint(northwind(owner).signing_secrets[-1]))
    response = form_post(client, f"{base(owner)}/signing-secrets", {"shown": shown})
    assert response.status_code == 200
    secret = shown_secret(response.text)
    assert in_app(lambda: northwind(owner).signing_secrets) == ["sign-northwind", secret]
    assert secret not in client.get(base(owner)).text
    request = {"items": [{"name": "Plan", "unit_amount": 100}], "currency": "EUR"}
    secrets = in_app(lambda: northwind(owner).signing_secrets)
    for signing in ("sign-northwind", secret):
        assert verify_purchase_request(sign_purchase_request(request, signing), secrets)
    [entry] = audited(in_app, "signing_secret.rotated")
    assert secret not in repr((entry.detail, entry.after))


def test_a_rotation_from_a_stale_page_is_refused(client, owner, in_app):
    shown = in_app(lambda: secret_fingerprint(northwind(owner).signing_secrets[-1]))
    assert form_post(client, f"{base(owner)}/signing-secrets", {"shown": shown}).status_code == 200
    stale = form_post(client, f"{base(owner)}/signing-secrets", {"shown": shown})
    assert stale.status_code == 409
    assert "Reload the page" in stale.text
    assert form_post(client, f"{base(owner)}/signing-secrets").status_code == 400
    assert in_app(lambda: len(northwind(owner).signing_secrets)) == 2


def test_retiring_keeps_the_newest_secret_after_a_confirmation(client, owner, in_app):
    shown = in_app(lambda: secret_fingerprint(northwind(owner).signing_secrets[-1]))
    assert "nothing to retire" in client.get(f"{base(owner)}/signing-secrets/retire").text
    refused = form_post(client, f"{base(owner)}/signing-secrets/retire", {"shown": shown})
    assert refused.status_code == 409 and "nothing to retire" in refused.text

    newest = shown_secret(form_post(client, f"{base(owner)}/signing-secrets",
                                    {"shown": shown}).text)
    confirm = client.get(f"{base(owner)}/signing-secrets/retire")
    assert confirm.status_code == 200 and "sign_…" in confirm.text
    fingerprint = re.search(r'name="shown"[^>]*value="([^"]+)"', confirm.text).group(1)
    assert form_post(client, f"{base(owner)}/signing-secrets/retire",
                     {"shown": fingerprint}).status_code == 303
    assert in_app(lambda: northwind(owner).signing_secrets) == [newest]
    [entry] = audited(in_app, "signing_secret.retired")
    assert (entry.before, entry.after) == ({"secrets": 2}, {"secrets": 1})


def test_origins_are_added_normalized_and_refused_when_bad_or_registered(client, owner,
                                                                         in_app):
    added = form_post(client, f"{base(owner)}/origins", {"origin": "HTTPS://Shop.Example/"})
    assert added.status_code == 303
    assert in_app(lambda: northwind(owner).origins) == ["http://localhost:5999",
                                                       "https://shop.example"]
    for origin, status, error in [("", 400, "Enter an origin"),
                                  ("ftp://shop.example", 400, "Enter an origin"),
                                  ("https://shop.example/path", 400, "Enter an origin"),
                                  ("https://shop.example", 409, "registered already")]:
        response = form_post(client, f"{base(owner)}/origins", {"origin": origin})
        assert response.status_code == status, origin
        assert error in response.text
    [entry] = audited(in_app, "origin.added")
    assert entry.subject == "https://shop.example"
    assert entry.after == {"origins": ["http://localhost:5999", "https://shop.example"]}
    assert client.get("/embed/v1/check", query_string={
        "seller": owner.northwind, "origin": "https://shop.example"}).json["allowed"] is True


def test_an_origin_is_removed_after_a_confirmation_but_never_the_last(client, owner, in_app):
    only = client.get(f"{base(owner)}/origins/remove", query_string={
        "origin": "http://localhost:5999"})
    assert only.status_code == 200 and "at least one origin" in only.text
    refused = form_post(client, f"{base(owner)}/origins/remove",
                        {"origin": "http://localhost:5999"})
    assert refused.status_code == 422 and "at least one origin" in refused.text
    assert client.get(f"{base(owner)}/origins/remove", query_string={
        "origin": "https://not.registered"}).status_code == 404
    assert form_post(client, f"{base(owner)}/origins/remove").status_code == 400

    form_post(client, f"{base(owner)}/origins", {"origin": "https://shop.example"})
    confirm = client.get(f"{base(owner)}/origins/remove", query_string={
        "origin": "http://localhost:5999"})
    assert "stop working" in confirm.text
    assert form_post(client, f"{base(owner)}/origins/remove",
                     {"origin": "http://localhost:5999"}).status_code == 303
    assert in_app(lambda: northwind(owner).origins) == ["https://shop.example"]
    [entry] = audited(in_app, "origin.removed")
    assert entry.before == {"origins": ["http://localhost:5999", "https://shop.example"]}


def test_two_origins_added_at_once_are_both_kept(app, team, in_app):
    from tests.conftest import at_once
    from tests.management.conftest import csrf_token

    def add(origin):
        client = app.test_client()
        with client.session_transaction() as session:
            person = in_app(lambda: db.session.scalar(db.select(Buyer).filter_by(
                email=team.emails["owner"])))
            session["buyer"], session["epoch"], session["sid"] = (
                person.id, person.session_epoch, "test")
        token = csrf_token(client.get("/account/sign-in").text)
        return client.post(f"{base(team)}/origins",
                           data={"origin": origin, "csrf_token": token}).status_code

    origins = [f"https://shop{n}.example" for n in range(4)]
    assert at_once(add, origins, workers=4) == [303] * 4
    assert sorted(in_app(lambda: northwind(team).origins)) == sorted(
        ["http://localhost:5999", *origins])
