"""Refund requests through the API: listed, declined with a reason, closed by a refund
(to where the buyer asked)."""

from buyflow.extensions import db
from buyflow.models import Order
from buyflow.refund_requests import open_request
from tests.api.conftest import AUTH


def ask(refund_to="source"):
    order = db.session.scalar(db.select(Order))
    asked = open_request(order, order.buyer, "The bag arrived torn.", refund_to)
    db.session.commit()
    return asked.public_id


def test_requests_are_listed_and_declined_with_a_reason(client, paid_order):
    request_id = ask()
    listed = client.get("/api/v1/refund_requests", headers=AUTH,
                        query_string={"status": "open"}).json
    assert [r["id"] for r in listed["data"]] == [request_id]

    declined = client.post(f"/api/v1/refund_requests/{request_id}/decline", headers=AUTH,
                           json={"reason": "Opened and used."})

    assert declined.status_code == 200
    assert (declined.json["status"], declined.json["decline_reason"]) == (
        "declined", "Opened and used.")
    again = client.post(f"/api/v1/refund_requests/{request_id}/decline", headers=AUTH,
                        json={"reason": "Still no."})
    assert (again.status_code, again.json["error"]["code"]) == (409, "refund_request_not_open")
    unknown = client.post("/api/v1/refund_requests/rr_nope/decline", headers=AUTH,
                          json={"reason": "No."})
    assert unknown.status_code == 404


def test_a_refund_closes_the_request_and_goes_where_the_buyer_asked(client, paid_order):
    request_id = ask(refund_to="credit")

    refunded = client.post(f"/api/v1/orders/{paid_order}/refunds", headers=AUTH, json={})

    assert refunded.status_code == 201
    assert refunded.json["destination"] == "credit"
    assert [p["destination"] for p in refunded.json["parts"]] == ["credit"]
    listed = client.get("/api/v1/refund_requests", headers=AUTH).json["data"]
    assert [(r["id"], r["status"], r["refund"]) for r in listed] == [
        (request_id, "refunded", refunded.json["id"])]
    credits = client.get("/api/v1/customers/ann@example.com/credits", headers=AUTH).json
    assert credits["balances"] == [{"unit": "EUR", "amount": 1450}]
