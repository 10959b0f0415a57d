"""A seller that is not active — suspended by an operator, or not approved yet — cannot
be paid: its flow refuses when it opens, with the error page that tells the seller's
page the code (the buyer reads why, in their language), and the flow's calls refuse too
once it is suspended while a flow is open (nothing ordered, nothing mailed). A payment
the buyer already made before the suspension is still read to its end."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from buyflow.extensions import db
from buyflow.flow.messages import buyer_message
from buyflow.models import Order
from tests.conftest import SELLER_ORIGIN, page_data


def set_status(seller, status: str) -> None:
    seller.status = status
    seller.status_reason = "Chargebacks under review" if status == "suspended" else None
    db.session.commit()


def open_page(client, product, origin=SELLER_ORIGIN, **params):
    return client.get("/flow/", query_string={"seller": product.seller.public_id,
                                              "product": product.public_id,
                                              "origin": origin, **params})


@pytest.mark.parametrize("status, code", [("suspended", "seller_suspended"),
                                          ("pending", "seller_not_approved")])
def test_the_flow_does_not_open_and_says_why(app, client, product, status, code):
    set_status(product.seller, status)
    response = open_page(client, product, locale="fr")
    assert response.status_code == 403
    data = page_data(response.text)
    # The seller's page hears the code at once; no flow token is given out.
    assert (data["code"], data["parentOrigin"]) == (code, SELLER_ORIGIN)
    assert "flow" not in data
    assert f"frame-ancestors {SELLER_ORIGIN}" in response.headers["Content-Security-Policy"]
    with app.test_request_context(), force_locale("fr"):
        message = buyer_message(code)
    assert data["message"] == message and 'lang="fr"' in response.text
    assert "Chargebacks" not in response.text  # the operator's reason is not the buyer's


def test_the_two_refusals_say_different_things(app):
    with app.test_request_context():
        assert buyer_message("seller_suspended") != buyer_message("seller_not_approved")
        assert buyer_message("seller_suspended") != buyer_message("processing_error")


def test_another_origin_learns_nothing_of_the_status(client, product):
    set_status(product.seller, "suspended")
    response = open_page(client, product, origin="http://127.0.0.1:5999")
    assert response.status_code == 403 and 'id="flow-data"' not in response.text


def test_reinstated_the_flow_opens_again(client, product, open_flow):
    set_status(product.seller, "suspended")
    set_status(product.seller, "active")
    assert "flow" in open_flow(product.seller, product)


def test_a_flow_opened_before_the_suspension_cannot_check_out(client, product, open_flow,
                                                              mailbox):
    data = open_flow(product.seller, product)
    set_status(product.seller, "suspended")
    mails = len(mailbox.messages)
    for url, body in [("/flow/api/checkout", {"email": "ann@example.com"}),
                      ("/flow/api/saved-cards/code", {"email": "ann@example.com"}),
                      ("/flow/api/saved-cards/confirm", {"email": "ann@example.com",
                                                         "code": "123456"}),
                      ("/flow/api/pay-saved", {"card_token": "x", "card": "card_x",
                                               "attempt": "a" * 20})]:
        answer = client.post(url, json={"flow": data["flow"], **body})
        assert answer.status_code == 403, (url, answer.json)
        assert answer.json["error"] == {"code": "seller_suspended",
                                        "message": buyer_message("seller_suspended")}
    assert db.session.scalar(db.select(db.func.count(Order.id))) == 0
    assert len(mailbox.messages) == mails


def test_a_payment_made_before_the_suspension_is_still_read_to_its_end(
        client, product, open_flow, confirm_in_browser):
    data = open_flow(product.seller, product)
    opened = client.post("/flow/api/checkout",
                         json={"flow": data["flow"], "email": "ann@example.com"})
    assert opened.json["status"] == "pending"
    set_status(product.seller, "suspended")
    confirm_in_browser(opened.json["client_secret"])  # at the provider: the money moved
    answer = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                    "payment": opened.json["payment"]})
    assert answer.status_code == 200 and answer.json["status"] == "paid"
