import pytest

from buyflow.extensions import db
from buyflow.models import Order, OrderItem, Payment

# The flow's saved-card fixtures: the money paths charge saved cards from the server.
from tests.flow.conftest import ask_code, buy_and_save, unlock  # noqa: F401


@pytest.fixture
def make_payment(product):
    """A payment of 14.50 EUR for a fresh order of ``product``, with the given fields."""

    def make(**fields):
        order = Order(seller=product.seller, checkout_key="k1", amount=1450, currency="EUR",
                      buyer_email="ann@example.com")
        order.items.append(OrderItem(product=product, name=product.name, quantity=1,
                                     unit_amount=1450, amount=1450))
        payment = Payment(order=order, provider="stripe", amount=1450, currency="EUR", **fields)
        db.session.add_all([order, payment])
        db.session.commit()
        return payment

    return make


@pytest.fixture
def saved_card(product, buy_and_save, open_flow, unlock):
    """Ann's saved card, and a new flow where she unlocked it: ``(flow data, card token,
    card id)``."""
    assert buy_and_save(product).json["status"] == "paid"
    data = open_flow(product.seller, product)
    unlocked = unlock(data)
    return data, unlocked["card_token"], unlocked["cards"][0]["id"]


@pytest.fixture
def fresh_provider(provider_book):
    """Only this test's objects at the provider: no other test's charge looks unknown to
    reconciliation. Ask for it before the fixtures that pay."""
    provider_book.flush()


def pay_saved(app, data, token, card_id, attempt="a" * 32):
    return app.test_client().post("/flow/api/pay-saved", json={
        "flow": data["flow"], "card_token": token, "card": card_id, "attempt": attempt})
