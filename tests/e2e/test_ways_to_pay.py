"""Many ways to pay, as buyer and seller meet them: a credit pack bought through the flow;
its credit spent on a second order together with a card, in the iframe; that order
refunded through the API, each part back to its source; a bank transfer recorded through
the API for a third order; all of it in the seller's webhooks and on the buyer's pages."""

import re

import pytest
import requests
from playwright.sync_api import expect

from buyflow.extensions import db
from buyflow.models import Order, Product, Seller
from tests.e2e.conftest import DEMO_API_KEY, FLOW_FRAME, fill_card
from tests.management.conftest import code_in

pytestmark = pytest.mark.e2e

THANKS = re.compile(r"Thank you — order (ord_\S+) verified")
EMAIL = "dana@example.com"
API = {"Authorization": f"Bearer {DEMO_API_KEY}"}


@pytest.fixture
def credit_pack(app, shop_url):
    """A €10.00 credit pack sold for €9.00 by the demo seller: its public id."""
    with app.app_context():
        seller = db.session.scalar(db.select(Seller).filter_by(public_id="sel_demo"))
        pack = Product(seller=seller, name="€10 of coffee credit", description="",
                       amount=900, currency="EUR", credit_amount=1000, credit_unit="EUR")
        db.session.add(pack)
        db.session.commit()
        pack_id = pack.public_id
        db.session.remove()
    return pack_id


def unlock(frame, mailbox):
    frame.locator("#email").fill(EMAIL)
    frame.get_by_role("button", name="Use my saved cards").click()
    expect(frame.get_by_label("Code from the email")).to_be_focused()  # the code was sent
    frame.get_by_label("Code from the email").fill(code_in(mailbox.last_to(EMAIL)))
    frame.get_by_role("button", name="Confirm").click()


def test_credit_pack_then_credit_and_card_then_refund_to_sources_then_a_transfer(
        app, page, service_url, shop_url, credit_pack, mailbox, run_queue, provider_book,
        browser_sign_in, axe):
    # 1. The pack, in the flow page itself (the shop links it), paid by card.
    page.goto(f"{service_url}/flow/?seller=sel_demo&product={credit_pack}&origin={shop_url}")
    page.locator("#email").fill(EMAIL)
    fill_card(page, "4242424242424242")
    page.locator("#pay").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible(timeout=20_000)
    credit = requests.get(f"{service_url}/api/v1/customers/{EMAIL}/credits", headers=API,
                          timeout=10).json()
    assert credit["balances"] == [{"unit": "EUR", "amount": 1000}]

    # 2. The coffee, €14.50, at the shop: €10.00 of credit and €4.50 by card.
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    frame = page.locator(FLOW_FRAME).element_handle().content_frame()
    unlock(frame, mailbox)
    use_credit = frame.get_by_label("Pay €10.00 of it with my credit with this shop")
    expect(use_credit).to_be_visible()
    use_credit.check()
    assert axe(frame) == [], "the credit choice"
    fill_card(frame, "4242424242424242")
    frame.locator("#pay").click()
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)
    mixed = THANKS.search(page.locator("#status").text_content()).group(1)
    order = requests.get(f"{service_url}/api/v1/orders/{mixed}", headers=API, timeout=10).json()
    assert sorted((p["source"], p["amount"]) for p in order["payments"]) == [
        ("card", 450), ("credit", 1000)]
    [charge] = provider_book.succeeded(mixed)
    assert charge["amount"] == 450

    # 3. The seller refunds it all: €4.50 back to the card, €10.00 back to credit.
    refund = requests.post(f"{service_url}/api/v1/orders/{mixed}/refunds", json={},
                           headers={**API, "Idempotency-Key": f"refund-{mixed}"}, timeout=30)
    assert refund.status_code == 201 and refund.json()["status"] == "succeeded"
    assert provider_book.refunded(charge["id"]) == 450
    credit = requests.get(f"{service_url}/api/v1/customers/{EMAIL}/credits", headers=API,
                          timeout=10).json()
    assert credit["balances"] == [{"unit": "EUR", "amount": 1000}]

    # 4. A third order, opened in the flow (its checkout call, as the page makes it when
    # the buyer gives their email), paid by bank transfer, recorded by the seller's server.
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    frame = page.locator(FLOW_FRAME).element_handle().content_frame()
    expect(frame.locator("#pay")).to_be_enabled()  # flow.js has wired it
    opened = frame.evaluate("""async (email) => {
        const data = JSON.parse(document.getElementById('flow-data').textContent);
        const answer = await fetch(data.urls.checkout, {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({flow: data.flow, email: email})});
        return answer.json();
    }""", EMAIL)
    transfer_order = opened["order"]
    paid = requests.post(f"{service_url}/api/v1/orders/{transfer_order}/payments",
                         json={"method": "bank_transfer", "reference": "TRF-DANA-1"},
                         headers={**API, "Idempotency-Key": f"pay-{transfer_order}"}, timeout=10)
    assert paid.status_code == 201

    # Every step reached the seller, signed.
    run_queue()
    events = requests.get(f"{shop_url}/buyflow/events", timeout=10).json()
    told = {(e["type"], e["order"]) for e in events}
    assert {("credit.granted", None), ("order.completed", mixed), ("refund.completed", mixed),
            ("order.completed", transfer_order)} <= told

    # And the buyer sees it: three purchases, each payment's source, the credit.
    browser_sign_in(EMAIL)
    expect(page.locator("main tbody tr")).to_have_count(3)  # the pack, the coffee twice
    page.goto(f"{service_url}/account/orders/{mixed}")
    detail = page.locator("main")
    expect(detail).to_contain_text("Credit with this shop")
    expect(detail).to_contain_text("Visa ending in 4242")
    expect(detail).to_contain_text("Refunded")
    assert axe(page) == [], "the order page"
    page.goto(f"{service_url}/account/orders/{transfer_order}")
    expect(page.locator("main")).to_contain_text("Bank transfer (TRF-DANA-1)")
    page.goto(f"{service_url}/account/credits")
    expect(page.locator("main")).to_contain_text("€10.00")
    assert axe(page) == [], "the credit page"
    with app.app_context():
        statuses = dict(db.session.execute(db.select(Order.public_id, Order.status)).all())
        assert (statuses[mixed], statuses[transfer_order]) == ("refunded", "paid")
        db.session.remove()
