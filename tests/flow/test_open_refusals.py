"""What the flow can know when it opens is refused then, not after Pay: a reference whose
order was paid (or expired) answers the error page that tells the seller's page its code;
an origin the seller did not register, which the page cannot be told, is said in the
server's log and by the ``/embed/v1/check`` diagnostic."""

from __future__ import annotations

import logging

import pytest

from buyflow.extensions import db
from buyflow.flow.purchase import Purchase
from buyflow.models import Order
from buyflow.sellers.requests import sign_purchase_request
from tests.conftest import SELLER_ORIGIN, page_data

REQUEST = {"items": [{"name": "Annual plan", "unit_amount": 4800}], "currency": "EUR",
           "reference": "invoice-2041"}


def open_request(client, seller, request=REQUEST, origin=SELLER_ORIGIN):
    return client.get("/flow/", query_string={
        "seller": seller.public_id, "origin": origin,
        "request": sign_purchase_request(request, "sign-northwind")})


def order_of_reference(seller, status: str, reference: str = REQUEST["reference"]) -> Order:
    """The order flows for ``reference`` find (the one the first of them made), in
    ``status``."""
    key = Purchase(lines=(), currency="EUR", reference=reference).checkout_key(seller, "")
    order = Order(seller=seller, checkout_key=key, amount=4800, currency="EUR",
                  buyer_email="ann@example.com", seller_reference=reference, status=status)
    db.session.add(order)
    db.session.commit()
    return order


@pytest.mark.parametrize("status, code", [("paid", "already_paid"),
                                          ("partially_refunded", "already_paid"),
                                          ("refunded", "already_paid"),
                                          ("expired", "order_expired")])
def test_a_reference_that_cannot_be_paid_is_refused_when_the_flow_opens(client, seller,
                                                                       status, code):
    order_of_reference(seller, status)
    response = open_request(client, seller)
    assert response.status_code == 409
    data = page_data(response.text)
    # The error page tells the seller's page (whose origin was checked) the code at once.
    assert (data["code"], data["parentOrigin"]) == (code, SELLER_ORIGIN)
    assert "flow" not in data
    assert f"frame-ancestors {SELLER_ORIGIN}" in response.headers["Content-Security-Policy"]


def test_a_reference_still_waiting_for_payment_opens_and_others_too(client, seller):
    order_of_reference(seller, "pending")
    assert open_request(client, seller).status_code == 200
    assert open_request(client, seller,
                        {**REQUEST, "reference": "invoice-2042"}).status_code == 200
    assert open_request(client, seller, {**REQUEST, "reference": None}).status_code == 200


def test_a_refused_reference_is_said_in_the_buyers_language(client, seller):
    order_of_reference(seller, "paid")
    response = client.get("/flow/", query_string={
        "seller": seller.public_id, "origin": SELLER_ORIGIN, "locale": "fr",
        "request": sign_purchase_request(REQUEST, "sign-northwind")})
    assert "Cette commande a déjà été payée." in response.text


def test_an_unregistered_origin_is_said_in_the_log(client, seller, caplog):
    with caplog.at_level(logging.WARNING):
        response = open_request(client, seller, origin="http://127.0.0.1:5999")
    assert response.status_code == 403
    assert 'id="flow-data"' not in response.text  # nothing to tell a page not the seller's
    assert ("origin 'http://127.0.0.1:5999' is not registered for "
            f"seller {seller.public_id} (registered: {SELLER_ORIGIN})") in caplog.text


def check(client, **params):
    return client.get("/embed/v1/check", query_string=params)


def test_the_check_says_whether_the_flow_opens_on_an_origin(client, seller):
    good = check(client, seller=seller.public_id, origin=SELLER_ORIGIN)
    assert good.status_code == 200 and good.headers["Access-Control-Allow-Origin"] == "*"
    assert good.json | {"message": ""} == {
        "seller": seller.public_id, "origin": SELLER_ORIGIN, "allowed": True, "code": None,
        "message": "", "registered_origins": [SELLER_ORIGIN]}
    # The origin as a developer may type it: normalized as registered origins are.
    assert check(client, seller=seller.public_id,
                 origin="HTTP://LOCALHOST:5999/").json["allowed"] is True

    bad = check(client, seller=seller.public_id, origin="http://127.0.0.1:5999").json
    assert (bad["allowed"], bad["code"], bad["registered_origins"]) == (
        False, "origin_not_allowed", [SELLER_ORIGIN])
    assert "sellers add-origin" in bad["message"] and "load_failed" in bad["message"]

    unknown = check(client, seller="sel_nope", origin=SELLER_ORIGIN).json
    assert (unknown["allowed"], unknown["code"], unknown["registered_origins"]) == (
        False, "unknown_seller", [])


@pytest.mark.parametrize("params", [{}, {"seller": "sel_x"}, {"origin": SELLER_ORIGIN},
                                    {"seller": "sel_x", "origin": "shop.example"},
                                    {"seller": "sel_x", "origin": "https://shop.example/a"}])
def test_the_check_needs_a_seller_and_an_origin(client, app_context, params):
    answer = check(client, **params)
    assert answer.status_code == 400 and answer.json["error"]["code"] == "bad_request"


def test_origins_are_added_and_removed_from_the_command_line(app, seller):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["sellers", "add-origin", seller.public_id,
                                "HTTPS://Shop.Example/", "http://127.0.0.1:5999"])
    assert added.exit_code == 0, added.output
    db.session.refresh(seller)
    assert seller.origins == ["http://127.0.0.1:5999", SELLER_ORIGIN, "https://shop.example"]
    removed = runner.invoke(args=["sellers", "remove-origin", seller.public_id,
                                  "http://127.0.0.1:5999", SELLER_ORIGIN])
    assert removed.exit_code == 0, removed.output
    db.session.refresh(seller)
    assert seller.origins == ["https://shop.example"]
    for args in (["remove-origin", seller.public_id, "https://shop.example"],
                 ["add-origin", seller.public_id, "shop.example"]):
        refused = runner.invoke(args=["sellers", *args])
        assert refused.exit_code != 0 and "Error" in refused.output
    db.session.refresh(seller)
    assert seller.origins == ["https://shop.example"]


def test_an_order_that_expired_after_opening_says_so_at_pay(client, seller, product,
                                                           opened_checkout):
    flow, opened = opened_checkout(seller, product)
    order = db.session.scalar(db.select(Order).filter_by(public_id=opened["order"]))
    order.status = "expired"
    db.session.commit()
    again = client.post("/flow/api/checkout", json={"flow": flow, "email": "ann@example.com"})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "order_expired"
