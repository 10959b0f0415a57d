"""The buy flow's page and calls, without a browser."""

import re

import pytest
from babel.dates import format_date
from sqlalchemy import event

from buyflow.extensions import db
from buyflow.models import Order, Payment
from buyflow.sellers.results import verify_result
from tests.conftest import SELLER_ORIGIN, make_product, page_data


def test_flow_page_shows_product_and_localized_price(client, product, open_flow):
    response = client.get("/flow/", query_string={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN, "locale": "fr"})
    assert response.status_code == 200
    html = response.text
    assert 'lang="fr"' in html and "Ethiopia Yirgacheffe" in html
    assert "14,50\xa0€" in html and "Payer 14,50\xa0€" in html
    assert page_data(html)["parentOrigin"] == SELLER_ORIGIN


def test_browser_language_is_used_without_a_locale_option(client, product):
    response = client.get("/flow/", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"},
                          query_string={"seller": product.seller.public_id,
                                        "product": product.public_id, "origin": SELLER_ORIGIN})
    assert 'lang="fr"' in response.text


def test_flow_page_may_be_framed_only_by_the_sellers_origins(client, product):
    response = client.get("/flow/", query_string={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN})
    csp = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors {SELLER_ORIGIN}" in csp
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers  # works with third-party cookies blocked


def test_other_pages_refuse_framing(client, app):
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_unregistered_origin_is_refused(client, product):
    response = client.get("/flow/", query_string={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": "https://evil.example", "locale": "fr"})
    assert response.status_code == 403
    assert "autorisé" in response.text
    assert "frame-ancestors https://evil.example" not in response.headers["Content-Security-Policy"]


def test_unknown_product_and_seller_are_refused(client, product):
    seller_id = product.seller.public_id
    unknown_product = client.get("/flow/", query_string={
        "seller": seller_id, "product": "prod_nope", "origin": SELLER_ORIGIN})
    assert unknown_product.status_code == 404
    assert "This product is not available." in unknown_product.text
    unknown_seller = client.get("/flow/", query_string={
        "seller": "sel_nope", "product": product.public_id, "origin": SELLER_ORIGIN})
    assert unknown_seller.status_code == 404


def test_a_product_of_another_seller_cannot_be_bought(client, seller, other_seller):
    foreign = make_product(other_seller, name="Not yours")
    response = client.get("/flow/", query_string={
        "seller": seller.public_id, "product": foreign.public_id, "origin": SELLER_ORIGIN})
    assert response.status_code == 404


def test_purchase_with_a_good_card(product, buy):
    answer = buy(product.seller, product)
    assert answer.status_code == 200 and answer.json["status"] == "paid"
    result = verify_result(answer.json["result"], "sign-northwind")
    assert (result["order"], result["amount"], result["currency"], result["status"]) == (
        answer.json["order"], 1450, "EUR", "paid")
    assert result["items"][0]["product"] == product.public_id
    order = db.session.scalar(db.select(Order))
    assert order.status == "paid" and order.buyer_email == "ann@example.com"
    [payment] = order.payments
    assert (payment.status, payment.card_last4, payment.card_brand) == ("succeeded", "4242", "visa")


def test_declined_card_then_another_card_in_the_same_flow(product, buy, open_flow):
    data = open_flow(product.seller, product, locale="fr")
    declined = buy(product.seller, product, "4000000000000341", data=data)
    assert declined.status_code == 402
    assert declined.json["error"]["code"] == "card_declined"
    assert declined.json["error"]["message"] == (
        "Votre carte a été refusée. Veuillez essayer une autre carte.")
    assert db.session.scalar(db.select(Order)).status == "pending"

    paid = buy(product.seller, product, "4242424242424242", data=data)
    assert paid.json["status"] == "paid"
    orders = db.session.scalars(db.select(Order)).all()
    assert len(orders) == 1 and orders[0].status == "paid"
    assert [p.status for p in orders[0].payments] == ["failed", "succeeded"]


def test_3ds_card_asks_the_bank_once_then_refresh_settles(client, product, open_flow,
                                                          confirm_in_browser,
                                                          confirm_card_payment):
    data = open_flow(product.seller, product)
    opened = client.post("/flow/api/checkout", json={"flow": data["flow"], "email": "a@b.co"})
    # The card confirms the one payment in the browser: the bank asks, once.
    assert confirm_in_browser(opened.json["client_secret"], "4000002500003155",
                              authenticate=False) == "requires_action"
    waiting = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                     "payment": opened.json["payment"]})
    assert waiting.json["status"] == "requires_action"
    assert waiting.json["client_secret"] == opened.json["client_secret"]
    confirm_card_payment(waiting.json["client_secret"])
    settled = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                     "payment": opened.json["payment"]})
    assert settled.json["status"] == "paid"
    [payment] = db.session.scalar(db.select(Order)).payments
    assert (payment.status, payment.card_last4) == ("succeeded", "3155")


def test_pay_pressed_twice_is_one_payment_charged_once(client, product, open_flow,
                                                       confirm_in_browser, provider_book):
    data = open_flow(product.seller, product)
    body = {"flow": data["flow"], "email": "a@b.co"}
    first = client.post("/flow/api/checkout", json=body).json
    second = client.post("/flow/api/checkout", json=body).json
    assert (first["payment"], first["client_secret"]) == (second["payment"],
                                                          second["client_secret"])
    assert first["due"] == "€14.50"
    confirm_in_browser(first["client_secret"])
    refresh = {"flow": data["flow"], "payment": first["payment"]}
    answers = [client.post("/flow/api/refresh", json=refresh).json for _ in range(2)]
    assert [a["status"] for a in answers] == ["paid", "paid"]
    assert db.session.scalar(db.select(db.func.count(Payment.id))) == 1
    assert len(provider_book.intents(first["order"])) == 1


def test_a_paid_order_cannot_be_started_again(client, product, buy, open_flow):
    data = open_flow(product.seller, product)
    assert buy(product.seller, product, data=data).json["status"] == "paid"
    again = client.post("/flow/api/checkout", json={"flow": data["flow"], "email": "a@b.co"})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_paid"
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 1


@pytest.mark.parametrize("body, code", [
    (None, "bad_request"),
    ({"flow": "garbage", "email": "a@b.co"}, "flow_invalid"),
    ({"email": "a@b.co"}, "flow_invalid"),
])
def test_bad_calls_get_clear_errors_and_write_nothing(client, product, body, code):
    response = client.post("/flow/api/checkout", json=body) if body else client.post(
        "/flow/api/checkout", data="not json", content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 0


def test_a_tampered_flow_token_is_refused(client, product, open_flow):
    token = open_flow(product.seller, product)["flow"]
    tampered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    response = client.post("/flow/api/checkout", json={"flow": tampered, "email": "a@b.co"})
    assert response.json["error"]["code"] == "flow_invalid"


def test_an_expired_flow_is_refused(client, app, product, open_flow):
    data = open_flow(product.seller, product)
    app.config["FLOW_TOKEN_MAX_AGE"] = -1
    try:
        response = client.post("/flow/api/checkout", json={"flow": data["flow"],
                                                           "email": "a@b.co"})
    finally:
        app.config["FLOW_TOKEN_MAX_AGE"] = 3600
    assert response.json["error"]["code"] == "flow_expired"


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", 42, "x" * 400 + "@example.com"])
def test_invalid_email_is_refused_in_the_buyers_language(client, product, open_flow, email):
    data = open_flow(product.seller, product, locale="fr")
    response = client.post("/flow/api/checkout", json={"flow": data["flow"], "email": email})
    assert response.status_code == 400
    assert response.json["error"] == {"code": "invalid_email",
                                      "message": "Veuillez saisir une adresse e-mail valide."}
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 0


def test_a_payment_of_another_flow_is_refused(client, product, open_flow):
    data = open_flow(product.seller, product)
    mine = client.post("/flow/api/checkout", json={"flow": data["flow"], "email": "a@b.co"})
    other = open_flow(product.seller, product)
    response = client.post("/flow/api/refresh", json={"flow": other["flow"],
                                                      "payment": mine.json["payment"]})
    assert response.status_code == 400 and response.json["error"]["code"] == "flow_invalid"


def test_the_buyer_can_switch_language_keeping_the_flows_parameters(client, product):
    query = {"seller": product.seller.public_id, "product": product.public_id,
             "origin": SELLER_ORIGIN, "locale": "de"}
    html = client.get("/flow/", query_string=query).text
    form = re.search(r'<form id="language-form".*?</form>', html, re.S).group(0)
    assert 'method="post" action="/flow/"' in form
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert hidden == {"seller": product.seller.public_id, "product": product.public_id,
                      "origin": SELLER_ORIGIN, "email": ""}
    # One compact control: the menu applies the language at once (flow.js), no button.
    assert '<label for="locale" class="visually-hidden">Sprache</label>' in form
    assert "<button" not in form and 'type="submit"' not in form
    option = r'<option value="(\w+)" lang="([\w-]+)"( selected)?>([^<]+)</option>'
    # The menu shows the page's language; flow.js moves in every language from the
    # template once the page is drawn (their names need fonts of their own).
    assert re.findall(option, form) == [("de", "de", " selected", "Deutsch")]
    languages = re.search(r'<template id="languages">.*?</template>', html, re.S).group(0)
    options = re.findall(option, languages)
    assert len(options) == 16
    assert ("de", "de", " selected", "Deutsch") in options
    assert ("ja", "ja", "", "日本語") in options and ("pt_BR", "pt-BR", "", "Português (Brasil)") in options


def test_the_confirmation_tells_amount_and_date_in_the_buyers_language(product, buy, open_flow):
    paid = buy(product.seller, product, data=open_flow(product.seller, product, locale="de"))
    order = db.session.scalar(db.select(Order))
    date = format_date(order.paid_at, "long", locale="de")
    assert paid.json["receipt"] == f"14,50\xa0€ bezahlt am {date}."


def test_switching_language_posts_back_the_flow_and_the_email(client, product):
    response = client.post("/flow/", data={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN, "locale": "ja", "email": "ann@example.com"})
    assert response.status_code == 200
    assert '<html lang="ja" dir="ltr">' in response.text
    assert 'value="ann@example.com"' in response.text
    assert page_data(response.text)["locale"] == "ja"
    assert db.session.scalar(db.select(Order)) is None  # nothing written


def test_first_checkouts_of_a_new_email_at_once_make_one_buyer(app, product, open_flow):
    from buyflow.models import Buyer
    from tests.conftest import at_once

    flows = [open_flow(product.seller, product)["flow"] for _ in range(4)]
    answers = at_once(lambda flow: app.test_client().post(
        "/flow/api/checkout", json={"flow": flow, "email": "new@example.com"}), flows)

    assert [a.status_code for a in answers] == [200] * 4
    buyers = db.session.scalars(db.select(Buyer)).all()
    assert len(buyers) == 1  # none keeps the card: no customer is made (test_checkout.py)
    orders = db.session.scalars(db.select(Order)).all()
    assert len(orders) == 4 and {o.buyer_id for o in orders} == {buyers[0].id}


def test_one_flow_checked_out_many_times_at_once_makes_one_order(app, product, open_flow):
    from tests.conftest import at_once

    flow = open_flow(product.seller, product)["flow"]
    answers = at_once(lambda _: app.test_client().post(
        "/flow/api/checkout", json={"flow": flow, "email": "ann@example.com"}), range(6))

    # One order, one payment for the browser: the presses that came while it was being
    # opened were told to wait.
    assert {a.status_code for a in answers} <= {200, 409}
    assert all(a.json["error"]["code"] == "payment_in_progress"
               for a in answers if a.status_code == 409)
    assert len({a.json["payment"] for a in answers if a.status_code == 200}) == 1
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 1
    assert db.session.scalar(db.select(db.func.count(Payment.id))) == 1


def test_the_flow_page_reads_outside_a_transaction(app, client, product):
    """It writes nothing, so its statements run each on its own (autocommit): on
    PostgreSQL no BEGIN or ROLLBACK, and no snapshot held while the page is made."""
    query = {"seller": product.seller.public_id, "product": product.public_id,
             "origin": SELLER_ORIGIN}
    levels = []

    def record(conn, cursor, statement, parameters, context, executemany):
        levels.append((statement.split()[0], context.execution_options.get("isolation_level")))

    db.session.remove()  # the request starts its own session, as in a server
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get("/flow/", query_string=query).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert levels and all(level == ("SELECT", "AUTOCOMMIT") for level in levels), levels
