"""POST /api/v1/results/verify: the seller's server-side proof of a purchase."""

import time

import pytest

from buyflow.sellers.results import sign_result

AUTH = {"Authorization": "Bearer sk_test_northwind"}


@pytest.fixture
def paid(product, buy):
    answer = buy(product.seller, product)
    assert answer.json["status"] == "paid"
    return answer.json


def verify(client, token, headers=AUTH):
    return client.post("/api/v1/results/verify", json={"token": token}, headers=headers)


def test_a_valid_token_returns_the_order_as_it_stands(client, paid, product):
    response = verify(client, paid["result"])
    assert response.status_code == 200
    order = response.json["order"]
    assert response.json["valid"] is True
    assert (order["id"], order["status"], order["amount"], order["currency"]) == (
        paid["order"], "paid", 1450, "EUR")
    assert order["seller"] == product.seller.public_id
    assert order["items"] == [{"product": product.public_id, "name": product.name,
                               "quantity": 1, "unit_amount": 1450, "amount": 1450}]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk_wrong"},
                                     {"Authorization": "sk_test_northwind"},
                                     {"Authorization": "Basic c2tfdGVzdDo="}])
def test_without_a_valid_key_nothing_is_revealed(client, paid, headers):
    response = verify(client, paid["result"], headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "order" not in response.json


def test_a_tampered_token_is_invalid(client, paid):
    token = paid["result"]
    response = verify(client, token[:-3] + ("xyz" if not token.endswith("xyz") else "abc"))
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_token"


def test_an_expired_token_is_refused(client, app, paid):
    app.config["RESULT_TOKEN_MAX_AGE"] = -1
    try:
        response = verify(client, paid["result"])
    finally:
        app.config["RESULT_TOKEN_MAX_AGE"] = 3600
    assert response.status_code == 400 and response.json["error"]["code"] == "expired_token"


def test_another_sellers_token_is_foreign(client, paid, other_seller):
    response = verify(client, paid["result"], {"Authorization": "Bearer sk_test_other"})
    assert response.status_code == 403 and response.json["error"]["code"] == "foreign_token"


def test_a_well_signed_token_for_no_order_is_invalid(client, seller):
    token = sign_result({"order": "ord_invented", "seller": seller.public_id,
                         "status": "paid", "iat": int(time.time())}, "sign-northwind")
    response = verify(client, token)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("kwargs", [
    {"data": "not json", "content_type": "application/json"},
    {"json": ["token"]},
    {"json": {"token": 42}},
    {"json": {}},
])
def test_malformed_requests_get_json_errors(client, seller, kwargs):
    response = client.post("/api/v1/results/verify", headers=AUTH, **kwargs)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"
