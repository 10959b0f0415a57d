"""POST /api/v1/orders/<id>/refunds, with and without Idempotency-Key."""

import threading
import time

import pytest
import requests

from buyflow.extensions import db
from buyflow.models import Order, Refund, RefundPart, WebhookEvent
from buyflow.payments import get_provider
from tests.api.conftest import AUTH


def refund(client, order_id, body, key=None):
    headers = {**AUTH, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/api/v1/orders/{order_id}/refunds", json=body, headers=headers)


def amounts_refunded_at_provider(localstripe_url):
    """What the provider says it refunded, for each of our refunds."""
    refs = db.session.scalars(db.select(RefundPart.provider_refund_ref).order_by(RefundPart.id))
    return [requests.get(f"{localstripe_url}/v1/refunds/{ref}", auth=("sk_test_suite", ""),
                         timeout=10).json()["amount"] for ref in refs]


def test_partial_then_full_refund(client, paid_order, localstripe_url):
    first = refund(client, paid_order, {"amount": 450, "reason": "one bag was damaged"})
    assert first.status_code == 201
    assert (first.json["amount"], first.json["status"]) == (450, "succeeded")
    order = client.get(f"/api/v1/orders/{paid_order}", headers=AUTH).json
    assert (order["status"], order["refunded_amount"]) == ("partially_refunded", 450)

    rest = refund(client, paid_order, {})
    assert rest.status_code == 201 and rest.json["amount"] == 1000
    order = client.get(f"/api/v1/orders/{paid_order}", headers=AUTH).json
    assert (order["status"], order["refunded_amount"]) == ("refunded", 1450)
    assert amounts_refunded_at_provider(localstripe_url) == [450, 1000]
    events = db.session.scalars(db.select(WebhookEvent.type)).all()
    assert events.count("refund.completed") == 2


def test_never_more_than_was_paid(client, paid_order):
    assert refund(client, paid_order, {"amount": 1000}).status_code == 201
    too_much = refund(client, paid_order, {"amount": 451})
    assert too_much.status_code == 422
    assert too_much.json["error"]["code"] == "amount_exceeds_refundable"
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 1


def test_an_unpaid_order_cannot_be_refunded(client, product, buy):
    declined = buy(product.seller, product, "4000000000000341")
    response = refund(client, declined.json["order"], {})
    assert response.status_code == 409 and response.json["error"]["code"] == "order_not_paid"


@pytest.mark.parametrize("body, code", [
    ({"amount": -5}, "invalid_amount"), ({"amount": 0}, "invalid_amount"),
    ({"amount": 4.5}, "invalid_amount"), ({"amount": "450"}, "invalid_amount"),
    ({"amount": True}, "invalid_amount"), ({"amount": 100, "currency": "EUR"}, "unknown_field"),
    ({"reason": 7}, "bad_request"), (["amount"], "bad_request"),
])
def test_bad_refund_requests_get_clear_errors_and_write_nothing(client, paid_order, body,
                                                                code):
    response = refund(client, paid_order, body)
    assert response.status_code == 400 and response.json["error"]["code"] == code
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 0
    assert db.session.scalar(db.select(Order.status)) == "paid"


def test_same_key_same_body_replays_the_first_answer(client, paid_order):
    first = refund(client, paid_order, {"amount": 300}, key="refund-1")
    again = refund(client, paid_order, {"amount": 300}, key="refund-1")
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 1


def test_same_key_other_body_is_refused(client, paid_order):
    refund(client, paid_order, {"amount": 300}, key="refund-1")
    other = refund(client, paid_order, {"amount": 400}, key="refund-1")
    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 1


def test_keys_belong_to_one_seller(client, paid_order, other_seller):
    refund(client, paid_order, {"amount": 300}, key="shared-key")
    response = client.post(f"/api/v1/orders/{paid_order}/refunds", json={"amount": 300},
                           headers={"Authorization": "Bearer sk_test_other",
                                    "Idempotency-Key": "shared-key"})
    assert response.status_code == 404  # its own attempt, on an order it cannot see


def test_two_concurrent_requests_with_one_key_do_the_work_once(app, client, paid_order,
                                                               monkeypatch):
    provider = get_provider()
    real_refund = provider.refund

    def slow_refund(*args, **kwargs):
        time.sleep(0.5)
        return real_refund(*args, **kwargs)

    monkeypatch.setattr(provider, "refund", slow_refund)
    answers = []

    def post():
        answers.append(app.test_client().post(
            f"/api/v1/orders/{paid_order}/refunds", json={"amount": 200},
            headers={**AUTH, "Idempotency-Key": "concurrent"}))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert [a.json["error"]["code"] for a in answers if a.status_code == 409] == [
        "idempotency_in_progress"]
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 1
    later = refund(client, paid_order, {"amount": 200}, key="concurrent")
    assert later.status_code == 201 and later.headers["Idempotent-Replayed"] == "true"
