"""A buyer asks for a refund from the order's page; the seller hears of it by webhook."""

from buyflow.extensions import db
from buyflow.models import AuditEntry, RefundRequest, WebhookEvent
from tests.management.conftest import csrf_token


def ask(client, order_id: str, reason: str):
    page = client.get(f"/account/orders/{order_id}")
    return client.post(f"/account/orders/{order_id}",
                       data={"reason": reason, "csrf_token": csrf_token(page.text)})


def test_a_refund_request_reaches_the_seller_with_its_reason(client, shops, buy, signed_in,
                                                             in_app):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    response = ask(client, order_id, "The bag arrived torn.")
    assert response.status_code == 302
    page = client.get(f"/account/orders/{order_id}").text
    assert "You asked the shop for a refund" in page and "Send the request" not in page

    def stored():
        event = db.session.scalar(db.select(WebhookEvent).filter_by(type="refund.requested"))
        audit = db.session.scalars(db.select(AuditEntry)).all()
        return event.data, [(a.action, a.detail["order"]) for a in audit]

    data, audit = in_app(stored)
    assert data["refund_request"]["reason"] == "The bag arrived torn."
    assert data["order"]["id"] == order_id
    assert audit == [("refund.requested", order_id)]

    again = ask(client, order_id, "Please!")
    assert again.status_code == 409
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(RefundRequest.id)))) == 1


def test_a_reason_is_needed(client, shops, buy, signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    response = ask(client, order_id, "   ")
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(RefundRequest.id)))) == 0


def test_an_unpaid_order_offers_no_refund(client, shops, buy, signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee, "4000000000000341").json["order"]
    signed_in()
    assert "Ask for a refund" not in client.get(f"/account/orders/{order_id}").text
    assert ask(client, order_id, "Refund me").status_code == 409
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(WebhookEvent.id)))) == 1


def test_nobody_asks_for_a_refund_of_someone_elses_order(client, shops, buy, signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee, email="bob@example.com").json["order"]
    signed_in("ann@example.com")
    page = client.get("/account/")
    response = client.post(f"/account/orders/{order_id}",
                           data={"reason": "mine now", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 404
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(RefundRequest.id)))) == 0
