"""Buying from the demo shop through the iframe, as a buyer does."""

import re
import time

import pytest
import requests
from playwright.sync_api import expect

from buyflow.extensions import db
from buyflow.models import Order, Payment
from tests.e2e.conftest import FLOW_FRAME

pytestmark = pytest.mark.e2e

THANKS = re.compile(r"Thank you — order (ord_\S+) verified")


def orders_and_payments(app):
    with app.app_context():
        orders = db.session.scalars(db.select(Order).order_by(Order.id)).all()
        payments = db.session.scalars(db.select(Payment).order_by(Payment.id)).all()
        result = ([(o.public_id, o.status) for o in orders],
                  [(p.status, p.card_last4) for p in payments],
                  [p.provider_payment_ref for p in payments])
        db.session.remove()
        return result


def open_and_pay(page, shop_url, checkout, number: str) -> None:
    """From the shop's page: Buy, fill the flow with ``number``, click Pay."""
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    checkout.fill(number)
    checkout.frame.locator("#pay").click()


DECLINED = "Your card was declined. Please try another card."


def charges_since(localstripe_url, started: int):
    """The charges localstripe made after ``started`` (a Unix time): the tests run one at
    a time, so those of the test that started then (a guest has no customer to list its
    charges by)."""
    answer = requests.get(f"{localstripe_url}/v1/charges",
                          params={"created[gt]": started, "limit": 100},
                          auth=("sk_test_suite", ""), timeout=10).json()
    return answer["data"]


def test_buy_with_a_good_card(app, page, shop_url, service_url, checkout, localstripe_url,
                              run_queue):
    started = int(time.time())
    time.sleep(started + 1 - time.time())  # charges made from now on have a later second
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    expect(checkout.frame.locator("#price")).to_have_text("€14.50")
    checkout.fill("4242424242424242")
    with page.expect_request("**/orders/confirm") as confirm:
        checkout.frame.locator("#pay").dblclick()  # a double click must not pay twice
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)
    expect(checkout.frame.get_by_role("heading", name="Thank you!")).to_be_visible()
    # The confirmation takes the page, and says where the receipt goes.
    expect(checkout.frame.get_by_text("Your receipt is on its way to ann@example.com.")
           ).to_be_visible()
    expect(checkout.frame.get_by_label("Language")).to_be_hidden()
    expect(checkout.frame.locator("#price")).to_be_hidden()

    order_id = THANKS.search(page.locator("#status").text_content()).group(1)
    orders, payments, intents = orders_and_payments(app)
    assert orders == [(order_id, "paid")]
    assert payments == [("succeeded", "4242")]
    assert [charge["payment_intent"] for charge in charges_since(localstripe_url, started)
            ] == intents

    # The seller's server can verify the very token the page received.
    token = confirm.value.post_data_json["token"]
    verified = requests.post(f"{service_url}/api/v1/results/verify", json={"token": token},
                             headers={"Authorization": "Bearer sk_test_demo_shop"}, timeout=10)
    assert verified.json()["order"]["id"] == order_id
    assert verified.json()["order"]["status"] == "paid"

    # The flow never needed a cookie of the service (third-party cookies are blocked).
    assert [c for c in page.context.cookies() if c["domain"] == "127.0.0.1"] == []

    # The shop's server also hears of it by a signed webhook, which it verified.
    run_queue()
    events = requests.get(f"{shop_url}/buyflow/events", timeout=10).json()
    assert [(e["type"], e["order"]) for e in events] == [("payment.succeeded", order_id),
                                                         ("order.completed", order_id)]

    checkout.frame.get_by_role("button", name="Done").click()
    expect(page.locator("iframe[title='Checkout']")).to_have_count(0)


# Counts, in every frame, the bank's prompts (localstripe's 3-D Secure box) ever shown.
COUNT_AUTHENTICATION_PROMPTS = """(() => {
  window.__prompts = 0;
  new MutationObserver((records) => records.forEach((record) => record.addedNodes.forEach(
    (node) => { if (/Complete authentication/.test(node.textContent || '')) window.__prompts++; })
  )).observe(document, { childList: true, subtree: true });
})();"""


def test_buy_with_a_3d_secure_card(app, page, shop_url, checkout):
    page.context.add_init_script(COUNT_AUTHENTICATION_PROMPTS)
    open_and_pay(page, shop_url, checkout, "4000002500003155")
    checkout.authenticate(times=1)  # one payment: the bank asks once
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)
    expect(checkout.frame.get_by_role("button", name="Complete authentication")).to_have_count(0)
    frame = page.locator(FLOW_FRAME).element_handle().content_frame()
    assert frame.evaluate("() => window.__prompts") == 1
    orders, payments, _ = orders_and_payments(app)
    assert [status for _, status in orders] == ["paid"]
    assert payments == [("succeeded", "3155")]


def test_declined_card_shows_a_clear_message_then_another_card_works(app, page, shop_url,
                                                                    checkout):
    open_and_pay(page, shop_url, checkout, "4000000000000341")
    expect(checkout.frame.get_by_role("alert")).to_have_text(DECLINED, timeout=20_000)
    orders, payments, _ = orders_and_payments(app)
    assert [status for _, status in orders] == ["pending"]
    assert payments == [("failed", "0341")]
    expect(page.locator("#status")).not_to_have_text(THANKS)

    checkout.frame.locator('input[name="number"]').fill("4242424242424242")
    checkout.frame.locator("#pay").click()
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)
    orders, payments, _ = orders_and_payments(app)
    assert [status for _, status in orders] == ["paid"]
    assert payments == [("failed", "0341"), ("succeeded", "4242")]


def test_a_card_the_bank_refuses_is_a_clear_message_and_nothing_is_paid(app, page, shop_url,
                                                                         checkout):
    open_and_pay(page, shop_url, checkout, "4000000000000002")
    expect(checkout.frame.get_by_role("alert")).to_have_text(DECLINED, timeout=20_000)
    orders, payments, _ = orders_and_payments(app)
    assert [status for _, status in orders] == ["pending"]
    assert payments == [("failed", "0002")]


def test_the_flow_speaks_the_browsers_language(browser, app, shop_url):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    frame = page.frame_locator("iframe")
    expect(frame.locator("#pay")).to_have_text("Payer 14,50\xa0€")
    # The overlay on the seller's page speaks the buyer's language too, and so does the
    # panel's close control.
    expect(page.get_by_role("dialog", name="Paiement")).to_be_visible()
    expect(frame.get_by_role("button", name="Fermer")).to_be_visible()
    expect(page.locator('iframe[title="Paiement"]')).to_have_count(1)
    expect(frame.locator("html")).to_have_attribute("lang", "fr")
    frame.locator("#email").fill("pas-un-email")
    frame.locator("#pay").click()
    expect(frame.get_by_role("alert")).to_have_text("Veuillez saisir une adresse e-mail valide.")
    context.close()


def open_in_page(page, options: dict) -> str:
    """Call Buyflow.open from the seller's page; return how its promise ended."""
    return page.evaluate("""options => Buyflow.open(options).then(
        r => 'resolved:' + r.status, e => 'rejected:' + e.code)""", options)


def test_closing_the_flow_rejects_with_closed(page, shop_url, checkout):
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    checkout.frame.get_by_role("button", name="Cancel").click()
    expect(page.locator("#status")).to_have_text("Checkout closed.")
    expect(page.locator("iframe[title='Checkout']")).to_have_count(0)


def test_a_flow_that_cannot_start_rejects_at_once_with_its_code(page, shop_url):
    page.goto(shop_url)
    outcome = open_in_page(page, {"seller": "sel_demo", "product": "prod_nope"})
    assert outcome == "rejected:unknown_product"


def test_buy_what_a_signed_request_names(app, page, shop_url, checkout):
    from buyflow.sellers.requests import sign_purchase_request
    from tests.e2e.conftest import DEMO_SIGNING_SECRET

    token = sign_purchase_request({
        "items": [{"name": "Tasting box", "amount": 2500},
                  {"name": "Gift wrap", "amount": 300, "quantity": 2}],
        "currency": "EUR", "reference": "gift-77", "passthrough": {"note": "birthday"},
    }, DEMO_SIGNING_SECRET)
    page.goto(shop_url)
    outcome = page.evaluate("""token => { window.outcome = Buyflow.open(
        {seller: 'sel_demo', request: token}).then(r => r.result, e => 'rejected:' + e.code); }""",
                            token)
    assert outcome is None
    expect(checkout.frame.locator("#lines")).to_contain_text("Gift wrap × 2")
    expect(checkout.frame.locator("#price")).to_have_text("€31.00")
    checkout.fill("4242424242424242")
    checkout.frame.locator("#pay").click()
    result_token = page.evaluate("window.outcome")
    from buyflow.sellers.results import verify_result

    result = verify_result(result_token, DEMO_SIGNING_SECRET)
    assert (result["status"], result["amount"], result["reference"], result["passthrough"]) == (
        "paid", 3100, "gift-77", {"note": "birthday"})


def test_a_bank_confirmation_that_never_comes_ends_in_a_clear_message(app, page, shop_url,
                                                                     checkout, monkeypatch):
    monkeypatch.setitem(app.config, "BANK_CONFIRMATION_WAIT_SECONDS", 3)
    # However long the page asks, the payment stays "processing" (as when a bank is slow).
    page.context.route("**/flow/api/refresh", lambda route: route.fulfill(
        status=200, content_type="application/json",
        body='{"status": "processing", "payment": "pay_x", "order": "ord_x"}'))
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    checkout.fill("4242424242424242")
    pay = checkout.frame.locator("#pay")
    before = pay.bounding_box()
    pay.click()

    expect(checkout.frame.get_by_role("alert")).to_have_text(
        "Your bank has not confirmed the payment yet. Please try again in a moment: you "
        "will not be charged twice.", timeout=20_000)
    expect(pay).to_be_enabled()  # the way to try again
    assert pay.bounding_box() == before  # the message takes the line kept for it
