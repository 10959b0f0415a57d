"""Buying what a seller's signed request names."""

import pytest
from standardwebhooks.webhooks import Webhook

from buyflow.extensions import db
from buyflow.models import Order
from buyflow.sellers.requests import sign_purchase_request
from buyflow.sellers.results import verify_result
from tests.conftest import SELLER_ORIGIN, page_data

REQUEST = {"items": [{"name": "Annual plan", "amount": 4800},
                     {"name": "Extra seat", "amount": 1200, "quantity": 2}],
           "currency": "EUR", "email": "Ann@Example.com", "reference": "invoice-2041",
           "passthrough": {"account": 42}}


def open_request(client, seller, request=REQUEST, secret="sign-northwind", **params):
    return client.get("/flow/", query_string={
        "seller": seller.public_id, "origin": SELLER_ORIGIN,
        "request": sign_purchase_request(request, secret), **params})


def pay(client, data, confirm_in_browser, email="someone@else.example"):
    opened = client.post("/flow/api/checkout", json={"flow": data["flow"], "email": email})
    assert opened.status_code == 200, opened.json
    confirm_in_browser(opened.json["client_secret"])
    return client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                  "payment": opened.json["payment"]})


def test_the_page_shows_the_requested_items_and_total(client, seller):
    response = open_request(client, seller, locale="de")
    assert response.status_code == 200
    html = response.text
    assert "Annual plan" in html and "Extra seat</bdi> <span class=\"quantity\">× 2</span>" in html
    assert "72,00\xa0€" in html  # 48.00 + 2 × 12.00
    assert 'value="Ann@Example.com"' in html and "readonly" in html


def test_buying_a_request_carries_reference_and_passthrough_everywhere(
        client, seller, confirm_in_browser, receiver_endpoint):
    data = page_data(open_request(client, seller).text)
    answer = pay(client, data, confirm_in_browser)
    assert answer.json["status"] == "paid"
    result = verify_result(answer.json["result"], "sign-northwind")
    assert (result["amount"], result["reference"], result["passthrough"]) == (
        7200, "invoice-2041", {"account": 42})
    assert result["buyer_email"] == "ann@example.com"  # the seller's, not the typed one
    assert [(i["name"], i["quantity"], i["amount"]) for i in result["items"]] == [
        ("Annual plan", 1, 4800), ("Extra seat", 2, 2400)]
    api = client.get(f"/api/v1/orders/{answer.json['order']}",
                     headers={"Authorization": "Bearer sk_test_northwind"}).json
    assert (api["reference"], api["passthrough"]) == ("invoice-2041", {"account": 42})
    webhook = receiver_endpoint()
    assert webhook["data"]["order"]["passthrough"] == {"account": 42}


def test_one_order_per_reference(client, seller, confirm_in_browser):
    first = page_data(open_request(client, seller).text)
    second = page_data(open_request(client, seller).text)  # opened before the first paid
    assert pay(client, first, confirm_in_browser).json["status"] == "paid"
    again = client.post("/flow/api/checkout", json={"flow": second["flow"], "email": "a@b.co"})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_paid"
    # A flow opened afterwards is refused at once (tests/flow/test_open_refusals.py).
    late = open_request(client, seller)
    assert late.status_code == 409 and page_data(late.text)["code"] == "already_paid"
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 1


@pytest.mark.parametrize("kwargs, code", [
    ({"secret": "not the sellers secret"}, "request_invalid"),
    ({"request": {**REQUEST, "currency": "XYZ"}}, "request_invalid"),
    ({"request": {**REQUEST, "items": [{"name": "x", "amount": 1, "product": "prod_nope"}]}},
     "request_invalid"),
])
def test_bad_requests_show_a_clear_error_and_write_nothing(client, seller, kwargs, code):
    response = open_request(client, seller, locale="fr", **kwargs)
    assert response.status_code == 400
    assert f'data-code="{code}"' in response.text
    assert "La demande de paiement de cette boutique n’est pas valide" in response.text
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 0


def test_an_altered_request_is_refused(client, seller):
    token = sign_purchase_request(REQUEST, "sign-northwind")
    body, timestamp, signature = token.rsplit(".", 2)
    forged = sign_purchase_request({**REQUEST, "items": [{"name": "Annual plan",
                                                          "amount": 1}]}, "sign-northwind")
    response = client.get("/flow/", query_string={
        "seller": seller.public_id, "origin": SELLER_ORIGIN,
        "request": f"{forged.rsplit('.', 2)[0]}.{timestamp}.{signature}"})
    assert response.status_code == 400 and 'data-code="request_invalid"' in response.text


def test_an_expired_request_is_refused(client, app, seller, monkeypatch):
    monkeypatch.setitem(app.config, "PURCHASE_REQUEST_MAX_AGE", -1)
    response = open_request(client, seller)
    assert response.status_code == 400 and 'data-code="request_expired"' in response.text


@pytest.fixture
def receiver_endpoint(endpoint_secret, receiver, run_queue):
    """Calling it delivers the queued webhooks and returns the one verified payload."""

    def received():
        run_queue()
        payloads = [Webhook(endpoint_secret).verify(body, headers)
                    for headers, body in receiver.requests]
        [completed] = [p for p in payloads if p["type"] == "order.completed"]
        return completed

    return received
