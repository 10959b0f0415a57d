import pytest

from buyflow.extensions import db
from buyflow.models import Order, OrderItem, Payment


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
