"""A seller that is not active (suspended by an operator, or not approved yet) is
refused by every API call with 403 and a stable code, before anything is read or
written; reinstated, its key works again."""

from __future__ import annotations

import pytest

from buyflow.extensions import db
from buyflow.models import IdempotencyRecord, Refund
from tests.api.conftest import AUTH


def set_status(seller, status: str) -> None:
    seller.status = status
    seller.status_reason = "Chargebacks under review" if status == "suspended" else None
    db.session.commit()


@pytest.mark.parametrize("status, code", [("suspended", "seller_suspended"),
                                          ("pending", "seller_not_approved")])
def test_every_call_is_refused_with_403_and_a_stable_code(client, seller, status, code):
    set_status(seller, status)
    for method, path in [("GET", "/api/v1/orders"), ("GET", "/api/v1/orders/ord_nope"),
                         ("POST", "/api/v1/results/verify"),
                         ("GET", "/api/v1/refund_requests")]:
        response = client.open(path, method=method, headers=AUTH, json={"token": "x"}
                               if method == "POST" else None)
        assert response.status_code == 403, (method, path, response.json)
        assert response.json["error"]["code"] == code
        assert "Buyflow" in response.json["error"]["message"]
    # The operator's reason is for the seller's team in the console, not in API answers.
    assert "Chargebacks" not in response.text


def test_a_wrong_key_is_still_401_for_a_suspended_seller(client, seller):
    set_status(seller, "suspended")
    response = client.get("/api/v1/orders", headers={"Authorization": "Bearer sk_nope"})
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_a_refund_is_refused_and_its_key_is_not_taken(client, paid_order, seller):
    set_status(seller, "suspended")
    headers = {**AUTH, "Idempotency-Key": "refund-1"}
    url = f"/api/v1/orders/{paid_order}/refunds"
    refused = client.post(url, json={"amount": 100}, headers=headers)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "seller_suspended"
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 0
    assert db.session.scalar(db.select(db.func.count(IdempotencyRecord.id))) == 0

    set_status(seller, "active")  # reinstated: the same key now does the work, once
    done = client.post(url, json={"amount": 100}, headers=headers)
    assert done.status_code == 201 and done.json["amount"] == 100
    assert client.get("/api/v1/orders", headers=AUTH).status_code == 200


def test_the_document_says_every_authenticated_call_may_answer_403(openapi):
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if operation.get("security") == []:  # public
                continue
            assert "403" in operation["responses"], (method, path)
