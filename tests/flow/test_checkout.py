"""Pressing Pay with a new card (flow/checkout.py: start_checkout): a first purchase's
customer at the provider is recorded with the payment's recovery point, and the
PaymentIntent is opened under the customer our rows name."""

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


def test_a_first_purchase_opens_its_payment_under_the_buyers_new_customer(
        product, opened_checkout, localstripe_url, provider_book):
    _, opened = opened_checkout(product.seller, product, email="new@example.com")

    assert opened["status"] == "pending"
    buyer = the_buyer("new@example.com")
    assert [c["id"] for c in provider_book.customers("new@example.com")] == [
        buyer.provider_customer_ref]
    assert intent_of(localstripe_url, opened["client_secret"])["customer"] == \
        buyer.provider_customer_ref


def test_a_returning_buyer_pays_under_the_same_customer(product, opened_checkout,
                                                        localstripe_url, provider_book):
    _, first = opened_checkout(product.seller, product, email="back@example.com")
    _, second = opened_checkout(product.seller, product, email="back@example.com")

    customer = the_buyer("back@example.com").provider_customer_ref
    assert len(provider_book.customers("back@example.com")) == 1
    assert {intent_of(localstripe_url, opened["client_secret"])["customer"]
            for opened in (first, second)} == {customer}


def test_first_purchases_of_one_email_in_two_flows_at_once_make_one_customer(
        app, product, open_flow, localstripe_url, provider_book):
    flows = [open_flow(product.seller, product)["flow"] for _ in range(2)]

    answers = at_once(lambda flow: app.test_client().post("/flow/api/checkout", json={
        "flow": flow, "email": "twice@example.com"}), flows)

    assert [a.json["status"] for a in answers] == ["pending", "pending"]
    customer = the_buyer("twice@example.com").provider_customer_ref
    assert [c["id"] for c in provider_book.customers("twice@example.com")] == [customer]
    assert {intent_of(localstripe_url, a.json["client_secret"])["customer"]
            for a in answers} == {customer}


def test_when_the_customer_cannot_be_made_no_payment_is_opened_and_pay_works_again(
        product, open_flow, client, faulty_provider, provider_book, localstripe_url):
    data = open_flow(product.seller, product)
    body = {"flow": data["flow"], "email": "later@example.com"}
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


def test_a_first_checkout_is_three_transactions(app, product, open_flow, client):
    """The order; the payment's recovery point, naming the new customer; the provider's
    answer. Each commit is a flush to disk, and on SQLite the whole database's write
    lock: the checkouts a server can take depend on how few there are."""
    data = open_flow(product.seller, product)
    commits = []
    listener = lambda _connection: commits.append(1)  # noqa: E731
    event.listen(db.engine, "commit", listener)
    try:
        answer = client.post("/flow/api/checkout", json={"flow": data["flow"],
                                                         "email": "three@example.com"})
    finally:
        event.remove(db.engine, "commit", listener)

    assert answer.json["status"] == "pending"
    assert len(commits) == 3
