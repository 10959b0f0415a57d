"""Where the API and its OpenAPI document once disagreed: each answer here is what the
document promises (the contract-checking client checks the shapes)."""

import pytest

from buyflow.extensions import db
from buyflow.models import Refund
from tests.api.conftest import AUTH


@pytest.mark.parametrize("method, path", [
    ("DELETE", "/api/v1/orders/ord_x"),
    ("GET", "/api/v1/orders/ord_x/refunds"),
    ("PUT", "/api/v1/results/verify"),
])
def test_a_wrong_method_says_which_are_allowed(client, method, path):
    response = client.open(path, method=method, headers=AUTH)
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed & {"GET", "POST"} and method not in allowed


@pytest.mark.parametrize("amount, refunded", [(1.0, 1), (450.0, 450), (4.5e2, 450)])
def test_an_integral_json_number_is_an_integer_amount(client, paid_order, amount, refunded):
    response = client.post(f"/api/v1/orders/{paid_order}/refunds", json={"amount": amount},
                           headers=AUTH)
    assert response.status_code == 201
    assert response.json["amount"] == refunded
    assert db.session.scalar(db.select(Refund.amount)) == refunded


@pytest.mark.parametrize("amount", [4.5, True, "450", 2**53 + 1, -1.0, 0.0])
def test_other_amounts_are_still_refused(client, paid_order, amount):
    response = client.post(f"/api/v1/orders/{paid_order}/refunds", json={"amount": amount},
                           headers=AUTH)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_amount"
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 0


def test_an_empty_starting_after_is_the_first_page(client, paid_order):
    response = client.get("/api/v1/orders?starting_after=", headers=AUTH)
    assert response.status_code == 200
    assert [order["id"] for order in response.json["data"]] == [paid_order]


@pytest.mark.parametrize("query", [
    {"created_lt": "0001-01-01T00:00:00+00:01"},  # before year 1 in UTC
    {"created_gte": "9999-12-31T23:59:59-00:01"},  # after year 9999 in UTC
])
def test_moments_beyond_the_calendar_find_no_order(client, paid_order, query):
    response = client.get("/api/v1/orders", query_string=query, headers=AUTH)
    assert response.status_code == 200 and response.json["data"] == []
