"""A buyer asks for a refund from the order's page, sees the shop's answer, withdraws a
request or asks again; the seller hears of it by webhook."""

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, Order, RefundRequest, Seller, WebhookEvent
from buyflow.models.audit import Actor
from buyflow.refund_requests import decline
from tests.management.conftest import csrf_token


def ask(client, order_id: str, reason: str, refund_to: str | None = None, **headers):
    page = client.get(f"/account/orders/{order_id}")
    data = {"reason": reason, "csrf_token": csrf_token(page.text)}
    if refund_to is not None:
        data["refund_to"] = refund_to
    return client.post(f"/account/orders/{order_id}", data=data, headers=headers)


def withdraw_url(order_id: str, request_id: str) -> str:
    return f"/account/orders/{order_id}/refund-requests/{request_id}/withdraw"


def withdraw(client, order_id: str, request_id: str):
    page = client.get(withdraw_url(order_id, request_id))
    assert page.status_code == 200
    return client.post(withdraw_url(order_id, request_id),
                       data={"csrf_token": csrf_token(page.text)})


def count(in_app, model) -> int:
    return in_app(lambda: db.session.scalar(db.select(db.func.count(model.id))))


def requests_of(in_app, order_id: str) -> list[tuple[str, str, str]]:
    """The order's requests as (public id, status, refund_to), oldest first."""
    def read():
        order = db.session.scalar(db.select(Order).filter_by(public_id=order_id))
        return [(r.public_id, r.status, r.refund_to) for r in order.refund_requests]
    return in_app(read)


def declined_by_the_shop(in_app, request_id: str, reason: str) -> None:
    def run():
        request = db.session.scalar(db.select(RefundRequest).filter_by(public_id=request_id))
        seller = db.session.get(Seller, request.order.seller_id)
        decline(request, reason, Actor.api_key(seller.api_keys[0]))
        db.session.commit()
    in_app(run)


def test_a_refund_request_reaches_the_seller_with_its_reason(client, shops, buy, signed_in,
                                                             in_app):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    response = ask(client, order_id, "The bag arrived torn.")
    assert response.status_code == 302
    page = client.get(f"/account/orders/{order_id}").text
    assert "You asked the shop for a refund" in page and "Send the request" not in page
    assert "Waiting for the shop" in page and "Back to how you paid" in page

    def stored():
        event = db.session.scalar(db.select(WebhookEvent).filter_by(type="refund.requested"))
        audit = db.session.scalars(db.select(AuditEntry)).all()
        return event.data, [(a.action, a.detail["order"], a.actor_type) for a in audit]

    data, audit = in_app(stored)
    assert data["refund_request"]["reason"] == "The bag arrived torn."
    assert data["refund_request"]["refund_to"] == "source"
    assert data["order"]["id"] == order_id
    assert audit == [("refund.requested", order_id, "buyer")]

    again = ask(client, order_id, "Please!")
    assert again.status_code == 409
    assert "You already asked for a refund of this order." in again.text
    assert count(in_app, RefundRequest) == 1


def test_the_buyer_may_ask_for_credit_with_the_shop(client, shops, buy, signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    form = client.get(f"/account/orders/{order_id}").text
    assert 'checked id="refund_to-0" name="refund_to" type="radio" value="source"' in form
    assert "How do you want the money back?" in form
    assert ask(client, order_id, "Torn", "credit").status_code == 302
    assert [r[1:] for r in requests_of(in_app, order_id)] == [("open", "credit")]
    assert "As credit to spend at this shop" in client.get(f"/account/orders/{order_id}").text


def test_a_reason_is_needed(client, shops, buy, signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    response = ask(client, order_id, "   ")
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert "Please say why you want a refund." in response.text
    assert count(in_app, RefundRequest) == 0


@pytest.mark.parametrize(("reason", "refund_to", "message"), [
    ("x" * 1001, "source", "Bitte kürzen Sie die Begründung"),
    ("Torn", "card", "Bitte wählen Sie, wie Sie das Geld zurückerhalten möchten."),
])
def test_bad_input_is_refused_in_the_buyers_language(client, shops, buy, signed_in, in_app,
                                                     reason, refund_to, message):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    response = ask(client, order_id, reason, refund_to, **{"Accept-Language": "de"})
    assert response.status_code == 400
    assert message in response.text and 'role="alert"' in response.text
    assert count(in_app, RefundRequest) == 0


def test_an_unpaid_order_offers_no_refund(client, shops, buy, signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee, "4000000000000341").json["order"]
    signed_in()
    assert "Ask for a refund" not in client.get(f"/account/orders/{order_id}").text
    refused = ask(client, order_id, "Refund me")
    assert refused.status_code == 409 and "nothing to refund" in refused.text
    assert count(in_app, RefundRequest) == 0


def test_an_order_refunded_in_full_offers_no_refund(client, shops, buy, signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee).json["order"]

    def refunded():
        db.session.scalar(db.select(Order).filter_by(public_id=order_id)).status = "refunded"
        db.session.commit()
    in_app(refunded)
    signed_in()
    assert "Ask for a refund" not in client.get(f"/account/orders/{order_id}").text
    refused = ask(client, order_id, "Refund me")
    assert refused.status_code == 409 and "already refunded in full" in refused.text
    assert count(in_app, RefundRequest) == 0


def test_nobody_asks_for_a_refund_of_someone_elses_order(client, shops, buy, signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee, email="bob@example.com").json["order"]
    signed_in("ann@example.com")
    page = client.get("/account/")
    response = client.post(f"/account/orders/{order_id}",
                           data={"reason": "mine now", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 404
    assert count(in_app, RefundRequest) == 0


def test_the_buyer_withdraws_a_request_after_confirming(client, shops, buy, signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    ask(client, order_id, "Torn")
    [(request_id, _, _)] = requests_of(in_app, order_id)
    page = client.get(f"/account/orders/{order_id}").text
    assert withdraw_url(order_id, request_id) in page

    confirm = client.get(withdraw_url(order_id, request_id))
    assert "Withdraw your refund request?" in confirm.text
    assert requests_of(in_app, order_id)[0][1] == "open"  # asking changed nothing

    response = withdraw(client, order_id, request_id)
    assert response.status_code == 302
    page = client.get(response.location).text
    assert "You withdrew your refund request." in page
    assert "Withdrawn" in page and "Ask for a refund" in page  # and may ask again
    assert requests_of(in_app, order_id)[0][1] == "withdrawn"
    assert in_app(lambda: db.session.scalars(db.select(WebhookEvent.type)
                                             .order_by(WebhookEvent.id)).all())[-1] == (
        "refund_request.withdrawn")

    again = client.get(withdraw_url(order_id, request_id))
    assert again.status_code == 302
    assert "This request is no longer open" in client.get(again.location).text


def test_nobody_withdraws_someone_elses_request(client, shops, buy, signed_in, in_app):
    bobs = buy(shops.northwind, shops.coffee, email="bob@example.com").json["order"]
    anns = buy(shops.northwind, shops.coffee).json["order"]

    def asked_by_bob():
        bob = db.session.scalar(db.select(Buyer).filter_by(email="bob@example.com"))
        for order_id in (bobs, anns):  # Ann's order, asked about from Bob's account
            order = db.session.scalar(db.select(Order).filter_by(public_id=order_id))
            db.session.add(RefundRequest(order=order, buyer_id=bob.id, reason="Torn"))
        db.session.commit()
    in_app(asked_by_bob)
    [(on_bobs, _, _)], [(on_anns, _, _)] = requests_of(in_app, bobs), requests_of(in_app, anns)
    signed_in("ann@example.com")

    assert client.get(withdraw_url(bobs, on_bobs)).status_code == 404
    assert client.get(withdraw_url(anns, on_bobs)).status_code == 404
    response = withdraw(client, anns, on_anns)
    assert "only that account can withdraw it" in client.get(response.location).text
    assert requests_of(in_app, anns)[0][1] == "open"
    assert count(in_app, AuditEntry) == 0


def test_after_a_decline_the_buyer_reads_the_answer_and_asks_again(client, shops, buy,
                                                                    signed_in, in_app):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    ask(client, order_id, "Torn")
    [(first, _, _)] = requests_of(in_app, order_id)
    declined_by_the_shop(in_app, first, "The seal was broken when it came back.")

    page = client.get(f"/account/orders/{order_id}").text
    assert "Ask for a refund again" in page and "The shop declined your last request" in page
    assert "The seal was broken when it came back." in page
    assert "Declined by the shop" in page

    assert ask(client, order_id, "It was broken on arrival, see the photos.").status_code == 302
    assert [r[1] for r in requests_of(in_app, order_id)] == ["declined", "open"]
    page = client.get(f"/account/orders/{order_id}").text
    assert "You asked the shop for a refund" in page
    assert "The seal was broken when it came back." in page  # still in the history
