"""Saved cards on the account pages: added through a card-setup session, made default,
removed; each change audited; someone else's card is not found."""

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, Card
from buyflow.payments import get_provider
from tests.management.conftest import card_data, csrf_token, stored_cards


def audit(in_app):
    return in_app(lambda: [(a.action, a.subject) for a in db.session.scalars(
        db.select(AuditEntry).order_by(AuditEntry.id))])


def attached_customer(in_app, method_ref):
    return in_app(lambda: get_provider().client.v1.payment_methods.retrieve(method_ref).customer)


def test_an_added_card_is_listed_as_the_default(client, signed_in, add_card, in_app):
    signed_in()
    assert "You have no saved cards." in client.get("/account/cards").text
    response = add_card()
    assert response.status_code == 302 and response.location.endswith("/account/cards")
    page = client.get("/account/cards").text
    assert "Card added." in page
    assert "Visa ending in 4242" in page and "12/2034" in page and "Default" in page
    [(card_id, last4, is_default, method)] = stored_cards(in_app)
    assert (last4, is_default) == ("4242", True)
    assert attached_customer(in_app, method) is not None
    assert audit(in_app) == [("card.added", card_id)]


def test_the_card_page_loads_the_providers_script_only_there(client, signed_in, app):
    signed_in()
    page = client.get("/account/cards/new")
    policy = page.headers["Content-Security-Policy"]
    assert app.config["STRIPE_JS_URL"].split("/js.stripe.com")[0] in policy
    assert "frame-ancestors 'none'" in policy
    assert "127.0.0.1" not in client.get("/account/cards").headers["Content-Security-Policy"]


def test_a_setup_the_browser_did_not_complete_adds_nothing(client, signed_in, in_app):
    signed_in()
    page = client.get("/account/cards/new")
    setup = card_data(page.text)["client_secret"].split("_secret_")[0]
    response = client.post("/account/cards/new", data={
        "setup": setup, "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400
    assert "could not be confirmed" in response.text
    assert stored_cards(in_app) == []


def test_a_declined_card_is_not_added(client, signed_in, confirm_card_setup, in_app):
    signed_in()
    page = client.get("/account/cards/new")
    client_secret = card_data(page.text)["client_secret"]
    assert confirm_card_setup(client_secret, "4000000000000002") == "card_declined"
    response = client.post("/account/cards/new", data={
        "setup": client_secret.split("_secret_")[0], "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400
    assert stored_cards(in_app) == []


def test_another_buyers_setup_cannot_be_claimed(client, signed_in, confirm_card_setup, in_app):
    signed_in("bob@example.com")
    page = client.get("/account/cards/new")
    bobs = card_data(page.text)["client_secret"]
    confirm_card_setup(bobs)
    client.post("/account/sign-out", data={"csrf_token": csrf_token(page.text)})
    signed_in("ann@example.com")
    page = client.get("/account/cards/new")
    response = client.post("/account/cards/new", data={
        "setup": bobs.split("_secret_")[0], "csrf_token": csrf_token(page.text)})
    assert response.status_code == 400
    assert stored_cards(in_app) == []


def test_making_another_card_default(client, signed_in, add_card, in_app):
    signed_in()
    add_card()
    add_card("5555555555554444")
    first, second = stored_cards(in_app)
    assert (first[2], second[2]) == (True, False)
    page = client.get("/account/cards")
    response = client.post(f"/account/cards/{second[0]}/default",
                           data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    first, second = stored_cards(in_app)
    assert (first[2], second[2]) == (False, True)
    customer = in_app(lambda: get_provider().client.v1.customers.retrieve(
        db.session.scalar(db.select(Buyer.provider_customer_ref))))
    assert customer.invoice_settings.default_payment_method == second[3]
    assert audit(in_app)[-1] == ("card.made_default", second[0])


def test_removing_a_card_detaches_it_and_moves_the_default(client, signed_in, add_card, in_app):
    signed_in()
    add_card()
    add_card("5555555555554444")
    first, second = stored_cards(in_app)
    confirm = client.get(f"/account/cards/{first[0]}/remove")
    assert "Remove Visa ending in 4242?" in confirm.text
    assert "becomes the default" in confirm.text
    response = client.post(f"/account/cards/{first[0]}/remove",
                           data={"csrf_token": csrf_token(confirm.text)})
    assert response.status_code == 302
    assert "was removed" in client.get("/account/cards").text
    [(card_id, _, is_default, _)] = stored_cards(in_app)
    assert (card_id, is_default) == (second[0], True)
    assert attached_customer(in_app, first[3]) is None
    assert audit(in_app)[-1] == ("card.removed", first[0])


def test_removing_needs_the_forms_token(client, signed_in, add_card, in_app):
    signed_in()
    add_card()
    [(card_id, *_)] = stored_cards(in_app)
    client.post(f"/account/cards/{card_id}/remove", data={})
    assert len(stored_cards(in_app)) == 1


def test_someone_elses_card_is_not_found(client, signed_in, add_card, in_app):
    signed_in("bob@example.com")
    add_card()
    [(bobs_card, *_)] = stored_cards(in_app, "bob@example.com")
    page = client.get("/account/cards")
    client.post("/account/sign-out", data={"csrf_token": csrf_token(page.text)})
    signed_in("ann@example.com")
    page = client.get("/account/cards")
    assert bobs_card not in page.text
    assert client.get(f"/account/cards/{bobs_card}/remove").status_code == 404
    for action in ("remove", "default"):
        response = client.post(f"/account/cards/{bobs_card}/{action}",
                               data={"csrf_token": csrf_token(page.text)})
        assert response.status_code == 404
    assert len(stored_cards(in_app, "bob@example.com")) == 1
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(Card.id)))) == 1


def test_cards_need_a_signed_in_buyer(client):
    response = client.get("/account/cards")
    assert response.status_code == 302 and "/account/sign-in" in response.location


def test_an_expired_card_says_so(client, signed_in, add_card, in_app):
    signed_in()
    add_card()
    assert "Expired" not in client.get("/account/cards").text

    def expire():
        card = db.session.scalar(db.select(Card))
        card.exp_month, card.exp_year = 1, 2020
        db.session.commit()

    in_app(expire)
    page = client.get("/account/cards").text
    assert "01/2020" in page and "Expired" in page
