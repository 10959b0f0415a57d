"""POST /orders/{id}/payments (offline), the credit endpoints and refunds to sources,
through the API as a seller's server calls them (answers checked against the document)."""

import pytest

from buyflow.api import idempotency
from buyflow.extensions import db
from buyflow.models import Order, WebhookEvent
from tests.api.conftest import AUTH

ANN = "ann@example.com"


def post(client, path, body, key=None):
    headers = {**AUTH, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/api/v1{path}", json=body, headers=headers)


@pytest.fixture
def pending_order(client, product, open_flow):
    """An order opened in the flow by Ann and not paid: its public id."""
    data = open_flow(product.seller, product)
    opened = client.post("/flow/api/checkout", json={"flow": data["flow"], "email": ANN})
    return opened.json["order"]


def test_a_bank_transfer_recorded_by_the_api_pays_the_order(client, pending_order, run_queue,
                                                           provider_book):
    answer = post(client, f"/orders/{pending_order}/payments",
                  {"method": "bank_transfer", "reference": "TRF-2041"}, key="pay-1")

    assert answer.status_code == 201
    assert (answer.json["source"], answer.json["method"], answer.json["amount"],
            answer.json["reference"]) == ("offline", "bank_transfer", 1450, "TRF-2041")
    assert answer.json["recorded_by"].startswith("api_key:")
    order = client.get(f"/api/v1/orders/{pending_order}", headers=AUTH).json
    assert (order["status"], order["amount_paid"], order["amount_due"]) == ("paid", 1450, 0)
    replay = post(client, f"/orders/{pending_order}/payments",
                  {"method": "bank_transfer", "reference": "TRF-2041"}, key="pay-1")
    assert replay.json == answer.json and replay.headers["Idempotent-Replayed"] == "true"
    types = db.session.scalars(db.select(WebhookEvent.type)).all()
    assert {"payment.succeeded", "order.completed"} <= set(types)
    # The card payment the buyer's page had opened can no longer be confirmed there.
    run_queue()
    order = db.session.scalar(db.select(Order))
    assert sorted((p.method, p.status) for p in order.payments) == [
        ("bank_transfer", "succeeded"), ("card", "canceled")]
    assert [i["status"] for i in provider_book.intents(pending_order)] == ["canceled"]


def test_a_retry_after_the_service_died_before_storing_its_answer_records_once(
        client, pending_order, product, short_leases, monkeypatch):
    product.seller.allow_partial_offline = True
    db.session.commit()

    def die(*args):  # the process ends after the payment's commit, before the key's
        raise KeyboardInterrupt("killed")

    finish = idempotency._finish
    monkeypatch.setattr(idempotency, "_finish", die)
    body = {"method": "cash", "reference": "till 1", "amount": 500}
    with pytest.raises(KeyboardInterrupt):
        post(client, f"/orders/{pending_order}/payments", body, key="cash-1")
    monkeypatch.setattr(idempotency, "_finish", finish)
    db.session.remove()
    short_leases()

    again = post(client, f"/orders/{pending_order}/payments", body, key="cash-1")
    assert again.status_code == 201 and again.json["amount"] == 500
    order = db.session.scalar(db.select(Order))
    assert [(p.method, p.amount) for p in order.payments if p.provider == "offline"] == [
        ("cash", 500)]
    assert again.json["id"] == [p.public_id for p in order.payments if p.provider == "offline"][0]


@pytest.mark.parametrize("body, status, code", [
    ({"method": "cash", "reference": "t", "amount": 1451}, 422, "amount_exceeds_due"),
    ({"method": "cash", "reference": "t", "amount": 100}, 422, "partial_not_allowed"),
    ({"method": "cheque", "reference": "t"}, 400, "bad_request"),
    ({"method": "cash", "reference": ""}, 400, "bad_request"),
    ({"method": "cash", "reference": "  \n "}, 400, "bad_request"),
    ({"method": "cash"}, 400, "bad_request"),
])
def test_bad_offline_payments_are_refused_and_write_nothing(client, pending_order, body,
                                                            status, code):
    answer = post(client, f"/orders/{pending_order}/payments", body)
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code)
    order = db.session.scalar(db.select(Order))
    # Only the card payment the checkout opened for the buyer's browser, still waiting.
    assert order.status == "pending"
    assert [(p.method, p.status) for p in order.payments] == [("card", "created")]


def test_no_offline_payment_on_a_paid_order(client, paid_order):
    answer = post(client, f"/orders/{paid_order}/payments",
                  {"method": "cash", "reference": "till"})
    assert (answer.status_code, answer.json["error"]["code"]) == (409, "order_not_payable")


def test_credits_are_granted_debited_and_listed_with_their_reasons(client, seller):
    grant = post(client, f"/customers/{ANN}/credits/grants",
                 {"unit": "EUR", "amount": 1000, "reason": "sorry for the delay"}, key="g-1")
    points = post(client, f"/customers/{ANN}/credits/grants",
                  {"unit": "points:stars", "amount": 50, "reason": "welcome"}, key="g-2")
    debit = post(client, f"/customers/{ANN}/credits/debits",
                 {"unit": "EUR", "amount": 300, "reason": "correction"}, key="d-1")

    assert grant.status_code == points.status_code == debit.status_code == 201
    assert (grant.json["amount"], debit.json["amount"]) == (1000, -300)
    balances = client.get(f"/api/v1/customers/{ANN}/credits", headers=AUTH).json
    assert balances == {"email": ANN, "balances": [{"unit": "EUR", "amount": 700},
                                                   {"unit": "points:stars", "amount": 50}]}
    history = client.get(f"/api/v1/customers/{ANN}/credits/history", headers=AUTH,
                         query_string={"unit": "EUR", "limit": 1}).json
    assert [t["reason"] for t in history["data"]] == ["correction"] and history["has_more"]
    rest = client.get(f"/api/v1/customers/{ANN}/credits/history", headers=AUTH,
                      query_string={"unit": "EUR", "starting_after": history["next_cursor"]})
    assert [t["reason"] for t in rest.json["data"]] == ["sorry for the delay"]
    types = db.session.scalars(db.select(WebhookEvent.type)).all()
    assert sorted(types) == ["credit.debited", "credit.granted", "credit.granted"]


@pytest.mark.parametrize("path, body, key, status, code", [
    ("grants", {"unit": "EUR", "amount": 0, "reason": "x"}, "k", 400, "invalid_amount"),
    ("grants", {"unit": "EUR", "amount": -5, "reason": "x"}, "k", 400, "invalid_amount"),
    ("grants", {"unit": "EURO", "amount": 5, "reason": "x"}, "k", 400, "bad_request"),
    ("grants", {"unit": "EUR", "amount": 5, "reason": ""}, "k", 400, "bad_request"),
    ("grants", {"unit": "EUR", "amount": 5, "reason": "   "}, "k", 400, "bad_request"),
    ("grants", {"unit": "EUR", "amount": 5, "reason": "x"}, None, 400,
     "idempotency_key_required"),
    ("debits", {"unit": "EUR", "amount": 5, "reason": "x"}, "k", 409, "insufficient_credit"),
])
def test_bad_credit_movements_are_refused_and_write_nothing(client, seller, path, body, key,
                                                            status, code):
    answer = post(client, f"/customers/{ANN}/credits/{path}", body, key=key)
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code)
    assert client.get(f"/api/v1/customers/{ANN}/credits", headers=AUTH).json["balances"] in (
        [], [{"unit": "EUR", "amount": 0}])


def test_an_email_that_is_none_is_refused(client, seller):
    answer = client.get("/api/v1/customers/not-an-email/credits", headers=AUTH)
    assert (answer.status_code, answer.json["error"]["code"]) == (400, "invalid_email")


def test_a_refund_of_an_order_paid_by_transfer_and_credit_goes_back_to_each(
        client, seller, pending_order):
    order = db.session.scalar(db.select(Order))
    from buyflow.ledger import book
    from buyflow.payments.credit import hold_credit

    book.grant(seller, order.buyer, "EUR", 1000, idempotency_key="welcome")
    hold_credit(order, order.buyer, 1000)
    db.session.commit()
    post(client, f"/orders/{pending_order}/payments",
         {"method": "bank_transfer", "reference": "TRF-1"})

    answer = post(client, f"/orders/{pending_order}/refunds", {"reason": "returned"},
                  key="r-1")

    assert answer.status_code == 201 and answer.json["status"] == "succeeded"
    parts = {(p["amount"], p["destination"], p["status"]) for p in answer.json["parts"]}
    assert parts == {(450, "source", "succeeded"), (1000, "source", "succeeded")}
    assert client.get(f"/api/v1/customers/{ANN}/credits", headers=AUTH).json["balances"] == [
        {"unit": "EUR", "amount": 1000}]
