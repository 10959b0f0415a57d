"""The seller console as its people use it, in Chromium: a business signs up, an operator
approves it, its owner adds a product and sells it on their own site through the buy
flow, declines one refund request and approves another, finds a webhook that failed and
replays it, and rotates the API key. Everyone signs in with the mailed code and moves by
the links' and buttons' accessible names."""

from __future__ import annotations

import html
import http.server
import re
import threading
from urllib.parse import quote

import pytest
import requests
from flask import Flask, Response, request
from playwright.sync_api import expect

from buyflow.buyers.identity import buyer_for_email
from buyflow.extensions import db
from buyflow.models import Buyer, Order, RefundRequest, Seller
from buyflow.refund_requests import open_request
from tests.e2e.conftest import FLOW_FRAME, LiveServer, fill_card
from tests.e2e.test_refund_requests import press_on

pytestmark = pytest.mark.e2e

OWNER = "sally@roastery.example"
OPERATOR = "olga@buyflow.example"


# --- People signing in, in pages of their own ----------------------------------------

def sign_in_as(page, service_url: str, mailbox, email: str, next_path: str = "/console/"):
    """Sign ``email`` in on ``page`` by the code mailed to it, arriving at ``next_path``."""
    from tests.management.conftest import code_in

    page.goto(f"{service_url}/account/sign-in?next={quote(next_path)}")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill(code_in(mailbox.last_to(email)))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(service_url + next_path.split("?")[0])))


def make_operator(app, email: str = OPERATOR) -> None:
    """The bootstrap path: a person made an operator in the database (as the CLI's
    ``people grant-operator`` does)."""
    with app.app_context():
        db.session.add(Buyer(email=email, is_operator=True))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def other_page(browser):
    """``other_page()``: a page in a browser context of its own (another person)."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


# --- The seller's own site: a page selling any seller's product ------------------------

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name}</title>
<script src="{service}/embed/v1/buyflow.js" defer></script></head>
<body><main>
  <h1>{name}</h1>
  <button id="buy" type="button" data-buyflow-seller="{seller}"
          data-buyflow-product="{product}">Buy it</button>
  <p id="status" role="status"></p>
</main>
<script>
document.addEventListener('buyflow:completed', function (event) {{
  document.getElementById('status').textContent = 'Paid: ' + event.detail.order;
}});
</script>
</body></html>"""


def create_shop_app(service_url: str) -> Flask:
    """A selling site: ``/?seller=...&product=...&name=...`` is a page with the buy
    button of that product, as a seller's site puts it (README, "Selling through
    Buyflow")."""
    shop = Flask(__name__)

    @shop.get("/")
    def shop_page():
        values = {key: html.escape(request.args.get(key, ""))
                  for key in ("seller", "product", "name")}
        return Response(SHOP_PAGE.format(service=service_url, **values))

    return shop


@pytest.fixture(scope="session")
def any_shop_url(service_url):
    """The selling site's URL, on localhost: another site than the service."""
    server = LiveServer(create_shop_app(service_url))
    yield f"http://localhost:{server.port}"
    server.stop()


def buy_on(page, shop_url: str, seller: str, product: str, email: str,
           number: str = "4242424242424242") -> str:
    """A buyer on ``page`` buys ``product`` on the seller's site; returns the order id."""
    page.goto(f"{shop_url}/?seller={seller}&product={product}&name=Shop")
    page.wait_for_function("() => window.Buyflow")
    page.get_by_role("button", name="Buy it").click()
    frame = page.frame_locator(FLOW_FRAME)
    expect(frame.locator("#pay")).to_be_enabled()
    frame.locator("#email").fill(email)
    fill_card(frame, number)
    frame.locator("#pay").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"Paid: ord_\S+"),
                                                    timeout=20_000)
    order_id = page.get_by_role("status").text_content().split(": ")[1]
    frame.get_by_role("button", name="Done").click()
    return order_id


# --- A webhook receiver the test tells how to answer --------------------------------

class Receiver:
    """The seller's webhook endpoint on loopback: answers ``status`` to every POST and
    keeps the event types it received."""

    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[tuple[int, bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((receiver.status, body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/buyflow/webhooks"


@pytest.fixture
def webhook_receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def asks_for_refund(app, order_id: str, reason: str) -> None:
    """The buyer of ``order_id`` asks for a refund (their own pages are tested in
    test_refund_requests.py)."""
    with app.app_context():
        order = db.session.scalar(db.select(Order).filter_by(public_id=order_id))
        open_request(order, buyer_for_email(order.buyer_email), reason)
        db.session.commit()
        db.session.remove()


def refund_requests_of(app, seller_id: str) -> dict[str, str]:
    with app.app_context():
        rows = db.session.scalars(db.select(RefundRequest).join(Order).join(Seller).where(
            Seller.public_id == seller_id)).all()
        found = {r.order.public_id: r.status for r in rows}
        db.session.remove()
        return found


def order_status(app, order_id: str) -> str:
    with app.app_context():
        status = db.session.scalar(db.select(Order.status).filter_by(public_id=order_id))
        db.session.remove()
        return status


# --- The journey -----------------------------------------------------------------------

def test_a_seller_signs_up_sells_handles_refunds_replays_a_webhook_and_rotates_a_key(
        app, page, other_page, service_url, mailbox, any_shop_url, webhook_receiver,
        run_queue, monkeypatch, axe):
    # Every retry of a delivery spent at its first failure: a failed webhook at once.
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_DELAYS", [])
    make_operator(app)
    violations = {}  # axe's findings by page, checked at the end (the journey goes on)

    def audit(name: str) -> None:
        if found := axe(page):
            violations[name] = found

    # Sally signs her business up from the console.
    sign_in_as(page, service_url, mailbox, OWNER)
    page.get_by_role("link", name="Sign up a business").click()
    page.get_by_label("Business name").fill("Sally's Roastery")
    page.get_by_label("Your site's address").fill(any_shop_url)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Welcome to Buyflow")).to_be_visible()
    expect(page.get_by_role("status").filter(
        has_text="An operator has not approved this seller yet")).to_be_visible()
    seller_id = re.search(r"/console/(sel_[^/]+)/", page.url).group(1)
    first_key = page.locator(".secret").first.text_content().strip()
    assert first_key.startswith("sk_")
    audit("welcome")

    # An operator approves it.
    operator = other_page()
    sign_in_as(operator, service_url, mailbox, OPERATOR, "/admin/")
    operator.get_by_role("link", name="Sellers").first.click()
    operator.get_by_role("link", name="Sally's Roastery").click()
    operator.get_by_role("button", name="Approve this seller").click()
    expect(operator.get_by_role("status")).to_have_text(
        "The seller is approved: buyers can pay it and its API answers.")
    expect(operator.get_by_role("button", name="Approve this seller")).to_have_count(0)

    # Sally adds a product.
    page.get_by_role("link", name="Go to the console").click()
    expect(page.get_by_text("An operator has not approved this seller yet")).to_have_count(0)
    console_nav = page.get_by_role("navigation", name="Seller console")
    console_nav.get_by_role("link", name="Products").click()
    page.get_by_role("link", name="Add a product").click()
    page.get_by_label("Name").fill("House blend, 250 g")
    page.get_by_label("Price").fill("14.50")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_role("button", name="Add the product").click()
    row = page.get_by_role("row", name=re.compile("House blend"))
    expect(row).to_contain_text("€14.50")
    product_id = re.search(r"prod_\S+", row.text_content()).group(0)

    # She connects her server's webhook endpoint (which fails for now).
    webhook_receiver.status = 500
    console_nav.get_by_role("link", name="Developers").click()
    page.get_by_label("Endpoint URL").fill(webhook_receiver.url)
    page.get_by_role("button", name="Add the endpoint").click()
    expect(page.locator("#new-secret")).to_contain_text("whsec_")
    page.get_by_role("link", name="I have copied it").click()

    # Two buyers buy it on her site.
    buyer = other_page()
    first = buy_on(buyer, any_shop_url, seller_id, product_id, "ann@example.com")
    second = buy_on(buyer, any_shop_url, seller_id, product_id, "bob@example.com")
    run_queue()  # the webhooks: her server answers 500
    assert webhook_receiver.received and {s for s, _ in webhook_receiver.received} == {500}

    # She sees the orders.
    console_nav.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("link", name=first)).to_be_visible()
    expect(page.get_by_role("link", name=second)).to_be_visible()

    # Both ask for a refund; she declines the first with a reason, approves the second.
    asks_for_refund(app, first, "I changed my mind.")
    asks_for_refund(app, second, "The bag arrived torn.")
    console_nav.get_by_role("link", name="Refund requests").click()
    expect(page.get_by_text("2 requests wait for your answer.")).to_be_visible()
    page.get_by_role("row").filter(has_text="ann@example.com").get_by_role("link").click()
    expect(page.get_by_text("I changed my mind.")).to_be_visible()
    # With the keyboard alone.
    press_on(page, page.get_by_label("Why you decline (the buyer reads it)"), None)
    page.keyboard.type("Opened bags cannot be returned, as our terms say.")
    press_on(page, page.get_by_role("button", name="Decline the request"))
    expect(page.get_by_role("status").filter(
        has_text="You declined the refund request.")).to_be_visible()
    expect(page.locator(".meta .badge")).to_have_text("Declined")
    audit("refund request, declined")
    run_queue()  # the mail telling the buyer why
    assert "Opened bags cannot be returned" in mailbox.last_to("ann@example.com").get_content()

    console_nav.get_by_role("link", name="Refund requests").click()
    page.get_by_role("row").filter(has_text="bob@example.com").get_by_role("link").click()
    page.get_by_role("button", name="Approve and refund €14.50").click()
    expect(page.get_by_role("heading",
                            name="Approve the refund request and refund €14.50?")).to_be_visible()
    audit("refund approval's confirmation")
    page.get_by_role("button", name="Approve and refund €14.50").click()
    expect(page.locator(".meta .badge")).to_have_text("Refunded", timeout=20_000)
    audit("refund request, refunded")
    assert refund_requests_of(app, seller_id) == {first: "declined", second: "refunded"}
    assert order_status(app, second) == "refunded"
    assert order_status(app, first) == "paid"

    # The refunded order's page: its refund, and its timeline.
    page.get_by_role("link", name=second).click()
    expect(page.get_by_role("heading", name=f"Order {second}")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Refunded")
    audit("order, refunded")

    # A webhook failed: she finds it in Developers and replays it once her server is up.
    run_queue()
    console_nav.get_by_role("link", name="Developers").click()
    page.get_by_role("link", name="Deliveries and settings").click()
    failed = page.get_by_role("row").filter(has_text="payment.succeeded").first
    expect(failed).to_contain_text("Failed")
    expect(failed).to_contain_text("HTTP 500")
    failed.get_by_role("link", name="payment.succeeded").click()
    webhook_receiver.status = 200
    page.get_by_role("button", name="Replay").click()
    expect(page.get_by_role("status").filter(
        has_text="The event is sent again now, with the same webhook-id")).to_be_visible()
    run_queue()
    page.reload()
    expect(page.get_by_role("main").locator(".badge").first).to_have_text("Delivered")
    attempts = page.get_by_role("table").last
    expect(attempts).to_contain_text("HTTP 500")
    expect(attempts).to_contain_text("HTTP 200")
    assert webhook_receiver.received[-1][0] == 200
    audit("delivery, replayed")

    # She rotates the API key: a new one for her server, then the first one revoked.
    console_nav.get_by_role("link", name="Developers").click()
    page.get_by_label("Key name").fill("Production server")
    # A double click makes one key, and the page shows it (the button waits once pressed).
    page.get_by_role("button", name="Create a key").dblclick()
    new_key = page.locator("#new-secret").text_content().strip()
    assert new_key.startswith("sk_") and new_key != first_key
    audit("new API key")
    page.get_by_role("link", name="I have copied it").click()
    expect(page.get_by_role("row").filter(has_text="Production server")).to_have_count(1)
    old_row = page.get_by_role("row").filter(has_text=first_key[-4:]).filter(
        has_not_text="Production server")
    old_row.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_role("row").filter(has_text=first_key[-4:]).filter(
        has_not_text="Production server")).to_contain_text("Revoked")
    orders = f"{service_url}/api/v1/orders"
    assert requests.get(orders, headers={"Authorization": f"Bearer {first_key}"},
                        timeout=10).status_code == 401
    answer = requests.get(orders, headers={"Authorization": f"Bearer {new_key}"}, timeout=10)
    assert answer.status_code == 200
    assert {o["id"] for o in answer.json()["data"]} == {first, second}
    assert violations == {}
