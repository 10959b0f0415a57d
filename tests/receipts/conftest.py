from datetime import UTC, datetime

import pytest

from buyflow.extensions import db
from buyflow.models import Order, OrderItem, Payment
from tests.conftest import make_refund

PAID_AT = datetime(2025, 3, 4, 12, 30, tzinfo=UTC)


@pytest.fixture
def paid_order(seller):
    """A paid order of two items (2 × €14.50 and a Japanese-named €4.50), paid by Visa
    4242; ``refunds`` (amount, status) pairs are added to it."""

    def make(status="paid", refunds=(), locale="en", email="ann@example.com"):
        order = Order(seller=seller, checkout_key=f"key-{status}-{len(refunds)}-{locale}",
                      buyer_email=email, status=status, amount=3350, currency="EUR",
                      locale=locale, paid_at=PAID_AT if status != "pending" else None)
        order.items = [OrderItem(name="Ethiopia Yirgacheffe", quantity=2, unit_amount=1450,
                                 amount=2900),
                       OrderItem(name="緑茶 Green tea", quantity=1, unit_amount=450, amount=450)]
        payment = Payment(order=order, provider="stripe", amount=3350, currency="EUR",
                          status="succeeded" if status != "pending" else "created",
                          card_brand="visa", card_last4="4242")
        db.session.add_all([order, payment])
        db.session.commit()
        for amount, refund_status in refunds:
            make_refund(payment, amount, refund_status, created_at=PAID_AT)
        return order

    return make
