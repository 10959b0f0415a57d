"""Paying with credit in the buy flow: offered once the mailed code proves the email,
for the whole order or part of it plus a card; reserved when the order opens, taken when
it is paid, given back when it is not."""

import pytest

from buyflow.buyers.identity import buyer_for_email
from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import Order, WebhookEvent
from buyflow.payments.expiry import expire_orders
from tests.flow.conftest import ANN


@pytest.fixture
def ann_has_credit(product):
    """Give Ann ``amount`` cents of credit with the product's seller; returns her buyer."""

    def give(amount):
        buyer = buyer_for_email(ANN)
        book.grant(product.seller, buyer, "EUR", amount, idempotency_key=f"gift-{amount}",
                   reason="welcome")
        db.session.commit()
        return buyer

    return give


def checkout(client, data, **body):
    return client.post("/flow/api/checkout", json={"flow": data["flow"], "email": ANN, **body})


def the_order() -> Order:
    db.session.expire_all()
    return db.session.scalar(db.select(Order))


def test_credit_that_covers_the_order_pays_it_without_a_card(client, product, open_flow,
                                                              unlock, ann_has_credit):
    buyer = ann_has_credit(2000)
    data = open_flow(product.seller, product)
    offer = unlock(data)["credit"]
    assert (offer["usable"], offer["covers"]) == (1450, True)
    assert "20.00" in offer["label"]

    answer = checkout(client, data, credit=1450, card_token=unlock(data)["card_token"])

    assert answer.json["status"] == "paid" and answer.json["result"]
    order = the_order()
    assert [(p.provider, p.status, p.amount) for p in order.payments] == [
        ("credit", "succeeded", 1450)]
    assert book.balance(product.seller, buyer, "EUR") == 550
    assert "order.completed" in db.session.scalars(db.select(WebhookEvent.type)).all()


def test_part_by_credit_and_the_rest_by_card(client, product, open_flow, unlock,
                                             ann_has_credit, confirm_in_browser,
                                             provider_book):
    buyer = ann_has_credit(1000)
    data = open_flow(product.seller, product)
    unlocked = unlock(data)
    assert (unlocked["credit"]["usable"], unlocked["credit"]["covers"]) == (1000, False)

    opened = checkout(client, data, credit=1000, card_token=unlocked["card_token"])
    assert opened.json["status"] == "pending" and opened.json["due"] == "€4.50"
    assert book.balance(product.seller, buyer, "EUR") == 0  # reserved for the order
    confirm_in_browser(opened.json["client_secret"])
    paid = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                  "payment": opened.json["payment"]})

    assert paid.json["status"] == "paid"
    order = the_order()
    assert sorted((p.provider, p.status, p.amount) for p in order.payments) == [
        ("credit", "succeeded", 1000), ("stripe", "succeeded", 450)]
    assert [i["amount"] for i in provider_book.succeeded(order.public_id)] == [450]


def test_credit_needs_the_code_and_a_balance(client, product, open_flow, unlock,
                                             ann_has_credit):
    buyer = ann_has_credit(500)
    data = open_flow(product.seller, product)

    without_code = checkout(client, data, credit=500)
    too_much = checkout(client, data, credit=900, card_token=unlock(data)["card_token"])
    negative = checkout(client, data, credit=-1)

    assert (without_code.status_code, without_code.json["error"]["code"]) == (
        403, "card_token_invalid")
    assert (too_much.status_code, too_much.json["error"]["code"]) == (
        409, "insufficient_credit")
    assert negative.status_code == 400
    assert book.balance(product.seller, buyer, "EUR") == 500
    assert all(p.provider != "credit" for p in the_order().payments)


def test_changing_ones_mind_gives_the_reserved_credit_back(client, product, open_flow, unlock,
                                                           ann_has_credit):
    buyer = ann_has_credit(1000)
    data = open_flow(product.seller, product)
    token = unlock(data)["card_token"]
    checkout(client, data, credit=1000, card_token=token)
    again = checkout(client, data, credit=0)

    assert again.json["status"] == "pending" and again.json["due"] == "€14.50"
    assert book.balance(product.seller, buyer, "EUR") == 1000
    # The card payment opened for the €4.50 left then was cancelled; one for all of it now.
    assert [(p.provider, p.status, p.amount) for p in the_order().payments] == [
        ("credit", "canceled", 1000), ("stripe", "canceled", 450), ("stripe", "created", 1450)]


def test_an_order_never_paid_expires_and_gives_the_credit_back(app, client, product, open_flow,
                                                               unlock, ann_has_credit,
                                                               monkeypatch):
    buyer = ann_has_credit(1000)
    data = open_flow(product.seller, product)
    checkout(client, data, credit=1000, card_token=unlock(data)["card_token"])
    assert expire_orders() == 0  # not yet

    monkeypatch.setitem(app.config, "ORDER_EXPIRY_SECONDS", 0)
    assert expire_orders() == 1

    order = the_order()
    assert order.status == "expired" and order.expired_at
    # The credit came back; the card payment that waited for a card was cancelled there.
    assert [(p.provider, p.status) for p in order.payments] == [("credit", "canceled"),
                                                                ("stripe", "canceled")]
    assert book.balance(product.seller, buyer, "EUR") == 1000
    assert "order.expired" in db.session.scalars(db.select(WebhookEvent.type)).all()
    late = checkout(client, data, credit=0)
    assert late.status_code == 409 and late.json["error"]["code"] == "order_expired"


def test_credit_with_a_saved_card_for_the_rest(client, product, open_flow, unlock, buy_and_save,
                                               ann_has_credit, provider_book):
    buy_and_save(product)
    buyer = ann_has_credit(1000)
    data = open_flow(product.seller, product)
    unlocked = unlock(data)

    paid = client.post("/flow/api/pay-saved", json={
        "flow": data["flow"], "card_token": unlocked["card_token"],
        "card": unlocked["cards"][0]["id"], "attempt": "c" * 32, "credit": 1000})

    assert paid.json["status"] == "paid"
    order = db.session.scalar(db.select(Order).filter_by(public_id=paid.json["order"]))
    assert sorted((p.provider, p.amount) for p in order.payments) == [
        ("credit", 1000), ("stripe", 450)]
    assert [i["amount"] for i in provider_book.succeeded(order.public_id)] == [450]
    assert book.balance(product.seller, buyer, "EUR") == 0
