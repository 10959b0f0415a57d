"""Buyers and paid orders made directly, for the refund requests' domain functions."""

from types import SimpleNamespace

import pytest

from buyflow.extensions import db
from buyflow.models import Buyer, Order, Refund


def make_buyer(email: str) -> Buyer:
    buyer = Buyer(email=email, session_epoch=0)
    db.session.add(buyer)
    db.session.commit()
    return buyer


@pytest.fixture
def people(seller):
    """Ann and Bob, each with a paid 14.50 EUR order of the Northwind seller."""
    ann, bob = make_buyer("ann@example.com"), make_buyer("bob@example.com")
    return SimpleNamespace(ann=ann, bob=bob, seller=seller,
                           ann_order=make_order(seller, ann), bob_order=make_order(seller, bob))


def make_order(seller, buyer: Buyer, status: str = "paid", locale: str = "en") -> Order:
    count = db.session.scalar(db.select(db.func.count(Order.id)))
    order = Order(seller=seller, buyer=buyer, buyer_email=buyer.email,
                  checkout_key=f"key-{count}", amount=1450, currency="EUR", status=status,
                  locale=locale)
    db.session.add(order)
    db.session.commit()
    return order


def succeeded_refund(order: Order, kind: str = "order", status: str = "succeeded") -> Refund:
    """A refund of ``order`` as the money core records it once the provider succeeded."""
    refund = Refund(order=order, amount=500, currency=order.currency, kind=kind,
                    status=status)
    db.session.add(refund)
    db.session.flush()
    return refund

