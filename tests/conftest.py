"""Fixtures shared by the whole suite: localstripe, the app on a migrated database,
sellers and products.

The database is SQLite in a temporary folder unless BUYFLOW_TEST_DATABASE_URL names
another (CI sets a PostgreSQL one). The schema always comes from the migrations.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from flask import has_app_context
from sqlalchemy import MetaData, create_engine

from buyflow import create_app
from buyflow.extensions import db, limiter
from buyflow.models import Product, Seller, SellerApiKey
from buyflow.models.sellers import hash_api_key
from buyflow.sellers.accounts import add_webhook_endpoint
from buyflow.tasks import get_tasks

STRIPE_WEBHOOK_SECRET = "whsec_test_suite"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture(scope="session")
def localstripe_url():
    """A localstripe server for the whole run, on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "buyflow.dev.localstripe_server", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def _empty_database(url: str) -> None:
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("BUYFLOW_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'buyflow.sqlite'}"
    _empty_database(url)
    return url


class MailBox:
    """An SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def last_to(self, address: str):
        return next(m for m in reversed(self.messages) if address in m["To"])


@pytest.fixture(scope="session")
def mailbox():
    box = MailBox()
    yield box
    box.controller.stop()


@pytest.fixture(scope="session")
def app(localstripe_url, database_url, tmp_path_factory, mailbox):
    """The app for the whole run, its schema made by the migrations."""
    from flask_migrate import upgrade

    app = create_app(instance_path=str(tmp_path_factory.mktemp("instance")), test_config={
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STRIPE_SECRET_KEY": "sk_test_suite",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_suite",
        "STRIPE_API_BASE": localstripe_url,
        "STRIPE_JS_URL": f"{localstripe_url}/js.stripe.com/v3/",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        # As in production: the SDK retries a 409 (a key in use by a concurrent request)
        # or a connection error under the same key.
        "STRIPE_MAX_NETWORK_RETRIES": 2,
        "WEBHOOK_ALLOW_PRIVATE_URLS": True,
        "REDIS_URL": os.environ.get("BUYFLOW_REDIS_URL"),
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mailbox.port,
    })
    with app.app_context():
        upgrade()
        get_tasks().huey.flush()  # a Redis queue may hold tasks of an earlier run
    return app


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Every test starts with empty tables (only when it uses the app)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        limiter.reset()
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


SELLER_ORIGIN = "http://localhost:5999"


def make_seller(name: str = "Northwind Coffee", origins=(SELLER_ORIGIN,),
                api_key: str = "sk_test_northwind", signing_secret: str = "sign-northwind"):
    seller = Seller(name=name, origins=list(origins), signing_secrets=[signing_secret])
    seller.api_keys.append(SellerApiKey(key_hash=hash_api_key(api_key), hint=api_key[-4:]))
    db.session.add(seller)
    db.session.commit()
    return seller


def make_product(seller, name="Ethiopia Yirgacheffe", amount=1450, currency="EUR"):
    product = Product(seller=seller, name=name, description="Single-origin beans.",
                      amount=amount, currency=currency)
    db.session.add(product)
    db.session.commit()
    return product


def make_refund(payment, amount: int, status: str = "pending", kind: str = "order",
                **part_fields):
    """A refund of ``amount`` of ``payment`` in one part, as the money core records it."""
    from buyflow.models import Refund, RefundPart

    refund = Refund(order=payment.order, amount=amount, currency=payment.currency,
                    kind=kind, status=status,
                    **({"created_at": part_fields["created_at"]} if "created_at" in part_fields
                       else {}))
    refund.parts.append(RefundPart(payment=payment, amount=amount, status=status,
                                   **part_fields))
    db.session.add(refund)
    db.session.commit()
    return refund


@pytest.fixture
def seller(app_context):
    return make_seller()


@pytest.fixture
def product(seller):
    return make_product(seller)


@pytest.fixture
def other_seller(app_context):
    return make_seller(name="Other Shop", origins=["http://localhost:5998"],
                       api_key="sk_test_other", signing_secret="sign-other")


@pytest.fixture
def confirm_card_setup(localstripe_url):
    """Do what Stripe.js's confirmCardSetup does in the browser: send the card to the
    provider (never to us) and confirm the setup. Returns the setup's status."""

    def confirm(client_secret: str, number: str = "4242424242424242",
                authenticate: bool = True) -> str:
        setup_id = client_secret.split("_secret_")[0]
        url = f"{localstripe_url}/v1/setup_intents/{setup_id}/confirm"
        body = {"key": "pk_test_suite", "client_secret": client_secret,
                "payment_method_data": {"type": "card", "card": {
                    "number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}}}
        answer = requests.post(url, json=body, timeout=10).json()
        if answer.get("status") == "requires_action" and authenticate:
            answer = requests.post(url, json={"key": "pk_test_suite",
                                              "client_secret": client_secret},
                                   timeout=10).json()
        return answer.get("status") or answer["error"]["code"]

    return confirm



@pytest.fixture
def confirm_card_payment(localstripe_url):
    """Do what Stripe.js's confirmCardPayment does once the buyer completes the bank's
    authentication, for the ``client_secret`` of a charge that requires action."""

    def confirm(client_secret: str) -> None:
        intent = client_secret.split("_secret_")[0]
        requests.post(
            f"{localstripe_url}/v1/payment_intents/{intent}/_authenticate?success=true",
            json={"key": "pk_test_suite", "client_secret": client_secret}, timeout=10,
        ).raise_for_status()

    return confirm


def page_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="flow-data">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


@pytest.fixture
def open_flow(client):
    """Open the flow page as the embed library would, and return the page's data."""

    def open_(seller, product, origin=SELLER_ORIGIN, **params):
        response = client.get("/flow/", query_string={
            "seller": seller.public_id, "product": product.public_id, "origin": origin,
            **params})
        assert response.status_code == 200, response.text
        return page_data(response.text)

    return open_


@pytest.fixture
def confirm_in_browser(localstripe_url):
    """Do what the flow's page does with a new card (the provider's script, through our
    adapter): confirm the payment named by ``client_secret`` with the card, straight at
    the provider (never through us), and complete the bank's authentication when it asks
    (``authenticate``). Returns the payment's status, or the provider's error code."""

    def confirm(client_secret: str, number: str = "4242424242424242",
                authenticate: bool = True) -> str:
        intent = client_secret.split("_secret_")[0]
        answer = requests.post(
            f"{localstripe_url}/v1/payment_intents/{intent}/confirm", timeout=10, json={
                "key": "pk_test_suite", "client_secret": client_secret,
                "payment_method_data": {"type": "card", "card": {
                    "number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}}})
        body = answer.json()
        if body.get("status") == "requires_action" and authenticate:
            body = requests.post(
                f"{localstripe_url}/v1/payment_intents/{intent}/_authenticate?success=true",
                json={"key": "pk_test_suite", "client_secret": client_secret},
                timeout=10).json()
        return body.get("status") or body["error"].get("code", "error")

    return confirm


@pytest.fixture
def buy(client, open_flow, confirm_in_browser):
    """Go through the flow's calls as the page's script does with a new card (open the
    order, confirm its payment in the browser, ask how it ended); returns the last
    answer (the checkout's when it ended there, as when credit paid it all)."""

    def buy_(seller, product, number="4242424242424242", email="ann@example.com", data=None,
             authenticate=True, **checkout):
        data = data or open_flow(seller, product)
        opened = client.post("/flow/api/checkout",
                             json={"flow": data["flow"], "email": email, **checkout})
        if opened.json.get("status") != "pending":
            return opened
        confirm_in_browser(opened.json["client_secret"], number, authenticate=authenticate)
        return client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                      "payment": opened.json["payment"]})

    return buy_


@pytest.fixture
def paid_order(product, buy):
    """The public id of a paid 14.50 EUR order of the Northwind seller."""
    answer = buy(product.seller, product)
    assert answer.json["status"] == "paid"
    return answer.json["order"]


class Receiver:
    """A seller's webhook endpoint on loopback: records requests, answers as told."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def endpoint_secret(seller, receiver):
    endpoint, secret = add_webhook_endpoint(seller, receiver.url)
    db.session.commit()
    return secret


@pytest.fixture
def run_queue(app):
    """Run every task waiting in the app's real queue (SQLite or Redis storage)."""

    def run():
        huey = app.extensions["buyflow.tasks"].huey
        while (task := huey.dequeue()) is not None:
            huey.execute(task)  # each task runs in an app context of its own
        if has_app_context():  # the test's own session must see what the tasks wrote
            db.session.expire_all()

    return run


@pytest.fixture
def faulty_provider(app, localstripe_url):
    """The app's provider talking to localstripe through a FaultProxy (yielded), with
    timeouts of a second and the SDK's retries on, as in production; restored after."""
    from buyflow.dev.fault_proxy import FaultProxy
    from buyflow.payments.stripe import StripeProvider

    sources = app.extensions["buyflow.payment_sources"]
    with FaultProxy(localstripe_url) as proxy:
        original = sources["stripe"]
        sources["stripe"] = StripeProvider(
            secret_key="sk_test_suite", publishable_key="pk_test_suite", api_base=proxy.url,
            js_url=f"{localstripe_url}/js.stripe.com/v3/",
            webhook_secret=STRIPE_WEBHOOK_SECRET, max_network_retries=2,
            connect_timeout=1, read_timeout=1)
        try:
            yield proxy
        finally:
            proxy.clear()
            proxy.wait_idle(15)
            sources["stripe"] = original


@pytest.fixture
def short_leases(app, monkeypatch):
    """Leases of a second and no grace period, so a test can outlive them: returns a
    function waiting until every lease taken so far is over."""
    monkeypatch.setitem(app.config, "MONEY_CALL_LEASE_SECONDS", 1)
    monkeypatch.setitem(app.config, "IDEMPOTENCY_LEASE_SECONDS", 1)
    monkeypatch.setitem(app.config, "RECONCILE_GRACE_SECONDS", 0)
    return lambda: time.sleep(1.1)


@pytest.fixture
def provider_book(localstripe_url):
    """What the provider holds, read as an auditor would (buyflow/dev/provider_book.py)."""
    from buyflow.dev.provider_book import ProviderBook

    return ProviderBook(localstripe_url)


@pytest.fixture
def opened_checkout(client, open_flow):
    """The flow's checkout call for ``email`` in the flow ``data`` (opened when not
    given), as the page makes it at Pay: returns ``(flow token, its answer's JSON)``."""

    def open_(seller, product, email="ann@example.com", data=None, **body):
        data = data or open_flow(seller, product)
        opened = client.post("/flow/api/checkout",
                             json={"flow": data["flow"], "email": email, **body})
        assert opened.status_code == 200, opened.json
        return data["flow"], opened.json

    return open_


def at_once(call, arguments, workers: int = 8) -> list:
    """``call`` with each of ``arguments`` in threads released together; the answers in order."""
    from concurrent.futures import ThreadPoolExecutor

    start = threading.Event()

    def run(argument):
        start.wait()
        return call(argument)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, argument) for argument in arguments]
        start.set()
        return [future.result() for future in futures]
