from datetime import UTC, datetime
from pathlib import Path

import pytest

from buyflow.extensions import db
from buyflow.models import Order, OrderItem, Payment
from buyflow.receipts.numbers import issue_receipt
from buyflow.sellers import brand
from tests.conftest import make_refund

PAID_AT = datetime(2025, 3, 4, 12, 30, tzinfo=UTC)
DEMO_LOGO = Path(__file__).parents[2] / "buyflow" / "dev" / "static" / "demo-logo.png"


@pytest.fixture
def branded_seller(seller):
    """The Northwind seller with its postal address, support email, accent and logo."""
    brand.set_support_contact(seller, email="help@northwind.example",
                              postal_address="Northwind Coffee GmbH\nKaffeestraße 12\n"
                                             "10115 Berlin")
    brand.set_accent(seller, "#6f4e37")
    brand.set_logo(seller, DEMO_LOGO.read_bytes())
    db.session.commit()
    return seller


@pytest.fixture
def paid_order(branded_seller):
    """A paid order of two items (2 × €14.50 and a Japanese-named €4.50), paid by Visa
    4242, its receipt issued as the status writer does; ``refunds`` (amount, status)
    pairs are added to it."""

    def make(status="paid", refunds=(), locale="en", email="ann@example.com"):
        order = Order(seller=branded_seller,
                      checkout_key=f"key-{status}-{len(refunds)}-{locale}-{email}",
                      buyer_email=email, status=status, amount=3350, currency="EUR",
                      locale=locale, paid_at=PAID_AT if status != "pending" else None)
        order.items = [OrderItem(name="Ethiopia Yirgacheffe", quantity=2, unit_amount=1450,
                                 amount=2900),
                       OrderItem(name="緑茶 Green tea", quantity=1, unit_amount=450, amount=450)]
        payment = Payment(order=order, provider="stripe", amount=3350, currency="EUR",
                          status="succeeded" if status != "pending" else "created",
                          card_brand="visa", card_last4="4242")
        db.session.add_all([order, payment])
        db.session.flush()
        if status != "pending":
            issue_receipt(order)
        db.session.commit()
        for amount, refund_status in refunds:
            make_refund(payment, amount, refund_status, created_at=PAID_AT)
        return order

    return make
