"""A flow that cannot be paid is refused when it opens: the seller's page hears the code
at once, not after Pay (or never)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from buyflow.extensions import db
from buyflow.flow.purchase import Purchase
from buyflow.models import Order, Seller
from buyflow.sellers.requests import sign_purchase_request
from tests.e2e.conftest import DEMO_SIGNING_SECRET, FLOW_FRAME

pytestmark = pytest.mark.e2e


def paid_reference(app, reference: str) -> None:
    with app.app_context():
        seller = db.session.scalar(db.select(Seller).filter_by(public_id="sel_demo"))
        key = Purchase(lines=(), currency="EUR", reference=reference).checkout_key(seller, "")
        db.session.add(Order(seller=seller, checkout_key=key, amount=2500, currency="EUR",
                             buyer_email="ann@example.com", seller_reference=reference,
                             status="paid"))
        db.session.commit()
        db.session.remove()


def test_a_paid_reference_rejects_the_promise_at_once(app, page, shop_url):
    paid_reference(app, "gift-2041")
    token = sign_purchase_request({"items": [{"name": "Tasting box", "unit_amount": 2500}],
                                   "currency": "EUR", "reference": "gift-2041"},
                                  DEMO_SIGNING_SECRET)
    page.goto(shop_url)
    started = time.monotonic()
    outcome = page.evaluate("""token => Buyflow.open({seller: 'sel_demo', request: token})
        .then(r => 'resolved:' + r.status, e => 'rejected:' + e.code)""", token)
    assert outcome == "rejected:already_paid"
    assert time.monotonic() - started < 5  # not the 15 s of load_failed
    # The flow stays open, saying why, until the buyer closes it.
    flow = page.frame_locator(FLOW_FRAME)
    expect(flow.get_by_text("This order has already been paid.")).to_be_visible()


def test_a_reference_paid_elsewhere_after_opening_rejects_on_pay(app, page, shop_url,
                                                                   checkout):
    token = sign_purchase_request({"items": [{"name": "Tasting box", "unit_amount": 2500}],
                                   "currency": "EUR", "reference": "gift-2042"},
                                  DEMO_SIGNING_SECRET)
    page.goto(shop_url)
    page.evaluate("""token => { window.outcome = Buyflow.open({seller: 'sel_demo',
        request: token}).then(r => 'resolved:' + r.status, e => 'rejected:' + e.code); }""",
                  token)
    checkout.fill("4242424242424242")
    paid_reference(app, "gift-2042")  # another tab paid it meanwhile
    checkout.frame.locator("#pay").click()
    expect(checkout.frame.get_by_text("This order has already been paid.")).to_be_visible()
    assert page.evaluate("window.outcome") == "rejected:already_paid"
