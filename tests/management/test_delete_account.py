"""Deleting an account: cards detached and customer deleted at the provider, waiting
payments cancelled, personal data erased, order records kept for the shops."""

import pytest
import stripe

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, Card, Order, Payment, RefundRequest, SignInCode
from buyflow.models.audit import SYSTEM
from buyflow.payments import get_provider
from buyflow.payments.base import PaymentError
from buyflow.refund_requests import decline
from tests.management.conftest import csrf_token, stored_cards


@pytest.fixture
def delete(client):
    def delete_(tick: bool = True):
        page = client.get("/account/delete")
        data = {"csrf_token": csrf_token(page.text)}
        if tick:
            data["understood"] = "y"
        return client.post("/account/delete", data=data)
    return delete_


def test_deleting_erases_the_buyer_and_keeps_the_orders(client, shops, buy, signed_in, add_card,
                                                         delete, in_app):
    paid = buy(shops.northwind, shops.coffee).json["order"]
    waiting = buy(shops.northwind, shops.coffee, "4000002760003184",  # 3-D Secure
                  authenticate=False).json
    assert waiting["status"] == "requires_action"
    signed_in()
    add_card()
    [(_, _, _, method)] = stored_cards(in_app)
    page = client.get(f"/account/orders/{paid}")
    client.post(f"/account/orders/{paid}", data={"reason": "Torn bag, my address is 1 Main St",
                                                 "csrf_token": csrf_token(page.text)})
    customer = in_app(lambda: db.session.scalar(db.select(Buyer.provider_customer_ref)))

    def declined_quoting_the_address():
        request = db.session.scalar(db.select(RefundRequest))
        decline(request, "We never shipped to 1 Main St.", SYSTEM)
        db.session.commit()
    in_app(declined_quoting_the_address)

    response = delete()
    assert response.status_code == 302
    assert "Your account was deleted." in client.get(response.location).text
    assert client.get("/account/").status_code == 302  # signed out

    def state():
        buyer = db.session.scalar(db.select(Buyer))
        orders = db.session.scalars(db.select(Order).order_by(Order.id)).all()
        return {
            "buyer": (buyer.email, buyer.provider_customer_ref, buyer.deleted_at is not None),
            "orders": [(o.public_id, o.status, o.amount, o.buyer_email) for o in orders],
            "receipts_due": [o.public_id for o in orders if o.receipt_sent_at is None],
            "payments": [p.status for p in db.session.scalars(
                db.select(Payment).order_by(Payment.id))],
            "cards": db.session.scalar(db.select(db.func.count(Card.id))),
            "codes": db.session.scalar(db.select(db.func.count(SignInCode.id))),
            "reasons": [(r.reason, r.decline_reason)
                        for r in db.session.scalars(db.select(RefundRequest))],
            "audit": [a.action for a in db.session.scalars(
                db.select(AuditEntry).order_by(AuditEntry.id))],
        }

    after = in_app(state)
    placeholder = after["buyer"][0]
    assert placeholder.endswith("@deleted.invalid") and after["buyer"][1:] == (None, True)
    assert [(o[0], o[1], o[2]) for o in after["orders"]] == [
        (paid, "paid", 1450), (waiting["order"], "pending", 1450)]
    assert {o[3] for o in after["orders"]} == {placeholder}
    assert after["payments"] == ["succeeded", "canceled"]
    assert after["receipts_due"] == []  # nothing will be mailed to the placeholder
    assert (after["cards"], after["codes"], after["reasons"]) == (0, 0, [("", "")])
    assert after["audit"] == ["card.added", "refund.requested", "refund_request.declined",
                              "account.deleted"]

    provider = in_app(get_provider)
    assert provider.client.v1.payment_methods.retrieve(method).customer is None
    with pytest.raises(stripe.InvalidRequestError):
        provider.client.v1.customers.retrieve(customer)


def test_signing_in_again_starts_a_new_empty_account(client, shops, buy, signed_in, delete):
    buy(shops.northwind, shops.coffee)
    signed_in()
    delete()
    signed_in()
    assert "Nothing bought with ann@example.com yet." in client.get("/account/").text


def test_nothing_is_deleted_without_ticking_the_box(client, signed_in, delete, in_app):
    signed_in()
    response = delete(tick=False)
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert in_app(lambda: db.session.scalar(db.select(Buyer.email))) == "ann@example.com"


def test_an_unreachable_provider_erases_nothing(client, signed_in, add_card, delete, in_app,
                                                monkeypatch):
    signed_in()
    add_card()

    def unreachable(method_ref):
        raise PaymentError("provider_unavailable", "connection refused")

    monkeypatch.setattr(in_app(get_provider), "detach_card", unreachable)
    response = delete()
    assert response.status_code == 503 and "cannot be reached" in response.text
    assert in_app(lambda: db.session.scalar(db.select(Buyer.email))) == "ann@example.com"
    assert len(stored_cards(in_app)) == 1


def _membership(in_app, email: str, role: str, seller_name: str = "Northwind Coffee"):
    from buyflow.models import Membership, Seller

    def make():
        seller = db.session.scalar(db.select(Seller).filter_by(name=seller_name))
        person = db.session.scalar(db.select(Buyer).filter_by(email=email)) or Buyer(email=email)
        db.session.add(Membership(seller=seller, person=person, role=role))
        db.session.commit()
    in_app(make)


def test_the_last_owner_of_a_team_cannot_delete_their_account(client, shops, signed_in,
                                                              delete, in_app):
    signed_in()
    _membership(in_app, "ann@example.com", "owner")
    response = delete()
    assert response.status_code == 409
    assert "You are the last owner of a seller&#39;s team" in response.text
    assert in_app(lambda: db.session.scalar(db.select(Buyer.deleted_at))) is None


def test_a_member_who_deletes_their_account_leaves_the_team(client, shops, signed_in, delete,
                                                            in_app):
    from buyflow.models import Membership

    signed_in()
    _membership(in_app, "ann@example.com", "support")
    _membership(in_app, "boss@example.com", "owner")
    assert delete().status_code == 302
    roles = in_app(lambda: db.session.execute(
        db.select(Buyer.email, Membership.role).join(Membership.person)).all())
    assert roles == [("boss@example.com", "owner")]
