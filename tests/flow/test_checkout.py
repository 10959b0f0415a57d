"""Pressing Pay with a new card (flow/checkout.py: start_checkout): a buyer who keeps
the card pays under their customer at the provider (a first purchase's is made then,
and recorded with the payment's recovery point); one who does not pays as a guest,
under the customer they have if any, and no customer is made for them."""

import requests
from sqlalchemy import event

from buyflow.dev.fault_proxy import PASS, RESET_BEFORE
from buyflow.extensions import db
from buyflow.models import Buyer, Order
from tests.conftest import at_once


def intent_of(localstripe_url, client_secret: str) -> dict:
    intent = client_secret.split("_secret_")[0]
    return requests.get(f"{localstripe_url}/v1/payment_intents/{intent}",
                        auth=("sk_test_suite", ""), timeout=10).json()


def the_buyer(email: str) -> Buyer:
    db.session.expire_all()
    return db.session.scalar(db.select(Buyer).filter_by(email=email))


def keeping(unlock, data, email: str) -> dict:
    """The checkout body of a buyer who confirmed the mailed code and keeps the card."""
    return {"flow": data["flow"], "email": email, "save": True,
            "card_token": unlock(data, email)["card_token"]}


def test_a_first_purchase_keeping_the_card_opens_its_payment_under_a_new_customer(
        product, open_flow, unlock, client, localstripe_url, provider_book):
    data = open_flow(product.seller, product)
    opened = client.post("/flow/api/checkout", json=keeping(unlock, data, "new@example.com"))

    assert opened.json["status"] == "pending"
    buyer = the_buyer("new@example.com")
    assert [c["id"] for c in provider_book.customers("new@example.com")] == [
        buyer.provider_customer_ref]
    intent = intent_of(localstripe_url, opened.json["client_secret"])
    assert intent["customer"] == buyer.provider_customer_ref
    assert intent["setup_future_usage"] == "off_session"


def test_a_first_purchase_without_keeping_the_card_makes_no_customer(
        product, opened_checkout, localstripe_url, provider_book):
    _, opened = opened_checkout(product.seller, product, email="guest@example.com")

    assert opened["status"] == "pending"
    assert the_buyer("guest@example.com").provider_customer_ref is None
    assert provider_book.customers("guest@example.com") == []
    intent = intent_of(localstripe_url, opened["client_secret"])
    assert intent["customer"] is None and not intent.get("setup_future_usage")


def test_a_returning_buyer_pays_under_the_same_customer(product, open_flow, unlock,
                                                        opened_checkout, client,
                                                        localstripe_url, provider_book):
    first = client.post("/flow/api/checkout",
                        json=keeping(unlock, open_flow(product.seller, product),
                                     "back@example.com")).json
    _, second = opened_checkout(product.seller, product, email="back@example.com")

    customer = the_buyer("back@example.com").provider_customer_ref
    assert len(provider_book.customers("back@example.com")) == 1
    assert {intent_of(localstripe_url, opened["client_secret"])["customer"]
            for opened in (first, second)} == {customer}


def test_first_purchases_of_one_email_in_two_flows_at_once_make_one_customer(
        app, product, open_flow, unlock, localstripe_url, provider_book):
    bodies = [keeping(unlock, open_flow(product.seller, product), "twice@example.com")
              for _ in range(2)]

    answers = at_once(lambda body: app.test_client().post("/flow/api/checkout", json=body),
                      bodies)

    assert [a.json["status"] for a in answers] == ["pending", "pending"]
    customer = the_buyer("twice@example.com").provider_customer_ref
    assert [c["id"] for c in provider_book.customers("twice@example.com")] == [customer]
    assert {intent_of(localstripe_url, a.json["client_secret"])["customer"]
            for a in answers} == {customer}


def test_when_the_customer_cannot_be_made_no_payment_is_opened_and_pay_works_again(
        product, open_flow, unlock, client, faulty_provider, provider_book,
        localstripe_url):
    data = open_flow(product.seller, product)
    body = keeping(unlock, data, "later@example.com")
    faulty_provider.set_rule(lambda method, path, body: RESET_BEFORE
                             if path.startswith("/v1/customers") else PASS)
    failed = client.post("/flow/api/checkout", json=body)

    assert failed.status_code == 503
    assert failed.json["error"]["code"] == "provider_unavailable"
    order = db.session.scalar(db.select(Order))
    assert order.payments == [] and provider_book.intents(order.public_id) == []
    assert the_buyer("later@example.com").provider_customer_ref is None

    faulty_provider.clear()
    again = client.post("/flow/api/checkout", json=body)

    assert again.json["status"] == "pending"
    customer = the_buyer("later@example.com").provider_customer_ref
    assert intent_of(localstripe_url, again.json["client_secret"])["customer"] == customer
    assert len(provider_book.intents(order.public_id)) == 1


def commits_of(call) -> int:
    """How many transactions ``call()`` committed."""
    commits = []
    listener = lambda _connection: commits.append(1)  # noqa: E731
    event.listen(db.engine, "commit", listener)
    try:
        call()
    finally:
        event.remove(db.engine, "commit", listener)
    return len(commits)


def test_a_first_checkout_is_two_transactions(app, product, open_flow, client):
    """The order with its payment's recovery point; the provider's answer. Each commit is
    a flush to disk, and on SQLite the whole database's write lock: the checkouts a
    server can take depend on how few there are."""
    data = open_flow(product.seller, product)
    answers = []

    assert commits_of(lambda: answers.append(client.post("/flow/api/checkout", json={
        "flow": data["flow"], "email": "two@example.com"}))) == 2
    assert answers[0].json["status"] == "pending"


def test_a_first_checkout_keeping_the_card_is_three_transactions(
        app, product, open_flow, unlock, client):
    """The order (the customer is made under its buyer's row); the payment's recovery
    point, naming the new customer; the provider's answer."""
    body = keeping(unlock, open_flow(product.seller, product), "three@example.com")
    answers = []

    assert commits_of(lambda: answers.append(client.post("/flow/api/checkout",
                                                         json=body))) == 3
    assert answers[0].json["status"] == "pending"


def test_a_first_press_writes_the_order_its_items_and_its_payment_as_the_flow_shows(
        product, opened_checkout, localstripe_url):
    _, opened = opened_checkout(product.seller, product, email="ann@example.com")

    db.session.expire_all()
    order = db.session.scalar(db.select(Order).filter_by(public_id=opened["order"]))
    assert (order.status, order.amount, order.currency, order.locale, order.buyer_email) == (
        "pending", 1450, "EUR", "en", "ann@example.com")
    assert order.buyer == the_buyer("ann@example.com") and order.seller == product.seller
    [item] = order.items
    assert (item.product, item.name, item.quantity, item.unit_amount, item.amount) == (
        product, product.name, 1, 1450, 1450)
    [payment] = order.payments
    assert (payment.public_id, payment.amount, payment.currency, payment.status) == (
        opened["payment"], 1450, "EUR", "created")
    assert payment.provider_call_until is None  # answered: its lease released
    intent = intent_of(localstripe_url, opened["client_secret"])
    assert intent["id"] == payment.provider_payment_ref and intent["amount"] == 1450
    assert intent["metadata"] == {"buyflow_payment": payment.public_id,
                                  "buyflow_order": order.public_id}
