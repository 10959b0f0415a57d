"""The service and the task worker killed (SIGKILL) at each recovery point of a money
path — its provider call held at the FaultProxy, before the provider acted or after it
acted with its answer not yet back — then restarted or reconciled: nothing lost, nothing
doubled. The service dies opening a new card's payment, charging a saved card and
refunding; the worker giving back an overpayment, and in the middle of a reconciliation
run.

The service and the worker run as real processes on the suite's database (and queue),
started the way production starts them; the test's own app opens the flows, reads the
rows and reconciles.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import requests

from buyflow.dev.fault_proxy import RESET_AFTER, RESET_BEFORE, FaultProxy, moves_money
from buyflow.extensions import db
from buyflow.models import Order, Payment, ReconciliationIssue, RefundPart
from buyflow.payments.reconcile import reconcile
from buyflow.payments.states import OPEN_PAYMENT_STATUSES
from buyflow.tasks import get_tasks
from tests.api.conftest import AUTH
from tests.conftest import free_port, make_refund, wait_for_port

SERVICE = """
import sys
from buyflow import create_app
create_app(instance_path=sys.argv[1]).run(host="127.0.0.1", port=int(sys.argv[2]),
                                          threaded=True, use_reloader=False)
"""
WORKER = """
import sys
from buyflow import create_app
app = create_app(instance_path=sys.argv[1])
app.extensions["buyflow.tasks"].huey.create_consumer(workers=1, periodic=False).run()
"""


class Processes:
    """Starts the service and the worker as the suite's app is configured, their provider
    behind ``proxy``; kills them all at the end."""

    def __init__(self, app, proxy: FaultProxy, database_url: str):
        self.app, self.proxy, self.database_url = app, proxy, database_url
        self.running: list[subprocess.Popen] = []

    def _env(self) -> dict:
        config = self.app.config
        return {**os.environ,
                "BUYFLOW_SECRET_KEY": config["SECRET_KEY"],
                "BUYFLOW_DATABASE_URL": self.database_url,
                "BUYFLOW_STRIPE_SECRET_KEY": "sk_test_suite",
                "BUYFLOW_STRIPE_PUBLISHABLE_KEY": "pk_test_suite",
                "BUYFLOW_STRIPE_API_BASE": self.proxy.url,
                "BUYFLOW_STRIPE_JS_URL": config["STRIPE_JS_URL"],
                "BUYFLOW_STRIPE_MAX_NETWORK_RETRIES": "0",
                "BUYFLOW_MONEY_CALL_LEASE_SECONDS": "1",
                "BUYFLOW_IDEMPOTENCY_LEASE_SECONDS": "1",
                "BUYFLOW_RECONCILE_GRACE_SECONDS": "0",
                "BUYFLOW_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
                "BUYFLOW_MAIL_BACKEND": "locmem"}

    def _start(self, code: str, *args: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", code, self.app.instance_path, *args],
                                   env=self._env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        self.running.append(process)
        return process

    def service(self) -> str:
        """A service process; its base URL."""
        port = free_port()
        self._start(SERVICE, str(port))
        wait_for_port(port)
        return f"http://127.0.0.1:{port}"

    def worker(self) -> subprocess.Popen:
        return self._start(WORKER)

    def kill_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(10)


@pytest.fixture
def processes(app, localstripe_url, database_url, short_leases):
    with FaultProxy(localstripe_url) as proxy:
        started = Processes(app, proxy, database_url)
        try:
            yield started
        finally:
            started.kill_all()


def _killed_when_held(processes: Processes, when: str, start, match=moves_money) -> None:
    """``start`` the work; when its provider call that ``match`` accepts reaches the proxy
    (``when``: before forwarding it, or after the provider acted), kill every process,
    then let the held call end as a dead process's would."""
    hold = processes.proxy.hold(when, match)
    start()
    assert hold.reached.wait(30), "the provider call never came"
    processes.kill_all()
    hold.release(RESET_BEFORE if when == "before" else RESET_AFTER)


def killed_at(processes: Processes, when: str, send) -> None:
    """The service killed at its provider call (see ``_killed_when_held``) while it
    answers ``send``, a request run in a thread."""
    thread = threading.Thread(target=lambda: _ignoring_connection_errors(send))
    _killed_when_held(processes, when, thread.start)
    thread.join(20)


def worker_killed_at(processes: Processes, when: str, task: str, *args,
                     match=moves_money) -> None:
    """The worker killed at its provider call that ``match`` accepts (see
    ``_killed_when_held``) while it runs ``task`` with ``args``, the only task queued."""
    get_tasks().huey.flush()

    def start():
        get_tasks().enqueue(task, *args)
        processes.worker()

    _killed_when_held(processes, when, start, match)


def _ignoring_connection_errors(send) -> None:
    try:
        send()
    except requests.RequestException:
        pass  # the process answering it was killed


def the_order() -> Order:
    """The newest order (a saved card was bought with an older one)."""
    db.session.expire_all()
    return db.session.scalar(db.select(Order).order_by(Order.id.desc()))


def nothing_left_hanging() -> None:
    """Every payment and refund ended (none open, none pending), no lease on a provider
    call left (every call's answer was recorded), and nothing was left for an operator."""
    db.session.expire_all()
    payments = db.session.scalars(db.select(Payment)).all()
    parts = db.session.scalars(db.select(RefundPart)).all()
    assert [p.status for p in payments if p.status in OPEN_PAYMENT_STATUSES] == []
    assert [p.status for p in parts if p.status == "pending"] == []
    assert [row for row in payments + parts if row.provider_call_until is not None] == []
    assert db.session.scalars(db.select(ReconciliationIssue.kind)).all() == []


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_service_killed_while_opening_a_new_cards_payment(fresh_provider, processes, client,
                                                            product, open_flow,
                                                            confirm_in_browser, provider_book,
                                                            short_leases, when):
    data = open_flow(product.seller, product)
    body = {"flow": data["flow"], "email": "ann@example.com"}
    service = processes.service()
    killed_at(processes, when, lambda: requests.post(
        f"{service}/flow/api/checkout", json=body, timeout=30))
    short_leases()

    # The buyer presses Pay again (another process of the service answers: the test's
    # own), confirms the payment it opens with the card and the page asks how it ended.
    retried = client.post("/flow/api/checkout", json=body)
    assert retried.json["status"] == "pending"
    confirm_in_browser(retried.json["client_secret"])
    paid = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                  "payment": retried.json["payment"]})
    assert paid.json["status"] == "paid"
    reconcile()

    order = the_order()
    [intent] = provider_book.intents(order.public_id)  # found again, or never made before
    assert (order.status, intent["status"]) == ("paid", "succeeded")
    assert [(p.status, p.provider_payment_ref) for p in order.payments] == (
        [("succeeded", intent["id"])] if when == "after"
        else [("canceled", None), ("succeeded", intent["id"])])
    nothing_left_hanging()


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("recovered_by", ["the buyer's retry", "reconciliation"])
def test_a_service_killed_while_charging_a_saved_card(processes, saved_card, provider_book,
                                                      short_leases, when, recovered_by):
    data, token, card = saved_card
    body = {"flow": data["flow"], "card_token": token, "card": card, "attempt": "k" * 32}
    service = processes.service()
    killed_at(processes, when, lambda: requests.post(
        f"{service}/flow/api/pay-saved", json=body, timeout=30))
    short_leases()

    if recovered_by == "the buyer's retry":
        restarted = processes.service()
        answer = requests.post(f"{restarted}/flow/api/pay-saved", json=body, timeout=30)
        assert answer.json()["status"] == "paid"
    else:
        reconcile()

    order = the_order()
    charged = provider_book.succeeded(order.public_id)
    assert len(charged) <= 1
    if recovered_by == "reconciliation" and when == "before":  # it never reached the provider
        assert (order.status, charged) == ("pending", [])
        assert order.payments[0].status == "canceled"
    else:
        assert order.status == "paid" and len(charged) == 1
    assert order.payments[-1].provider_call_until is None


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("recovered_by", ["the seller's retry", "reconciliation"])
def test_a_service_killed_while_refunding(processes, paid_order, provider_book, short_leases,
                                          when, recovered_by):
    service = processes.service()
    key = {"Idempotency-Key": "crash-1"} if recovered_by == "the seller's retry" else {}
    killed_at(processes, when, lambda: requests.post(
        f"{service}/api/v1/orders/{paid_order}/refunds", json={"amount": 700},
        headers={**AUTH, **key}, timeout=30))
    short_leases()

    if recovered_by == "the seller's retry":
        restarted = processes.service()
        answer = requests.post(f"{restarted}/api/v1/orders/{paid_order}/refunds",
                               json={"amount": 700}, headers={**AUTH, **key}, timeout=30)
        assert answer.status_code == 201 and answer.json()["status"] == "succeeded"
    else:
        reconcile()

    order = the_order()
    intent = order.payments[0].provider_payment_ref
    refunded_there = provider_book.refunded(intent)
    succeeded = [r.amount for r in order.refunds if r.status == "succeeded"]
    if recovered_by == "reconciliation" and when == "before":  # released: it never happened
        assert (refunded_there, succeeded) == (0, [])
        assert [p.failure_code for r in order.refunds for p in r.parts] == ["not_at_provider"]
    else:
        assert (refunded_there, succeeded) == (700, [700])
    assert all(r.status != "pending" for r in order.refunds)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_worker_killed_while_giving_back_an_overpayment(app, processes, paid_order,
                                                          provider_book, short_leases, when):
    order = the_order()
    payment = order.payments[0]
    # Reserved by the status writer when a second charge succeeded for a paid order; the
    # worker gives it back.
    refund = make_refund(payment, 1450, kind="overpayment")
    worker_killed_at(processes, when, "execute_refund", refund.id)
    short_leases()

    reconcile()  # found at the provider, or (never reached it) executed now

    db.session.expire_all()
    assert refund.status == "succeeded"
    assert provider_book.refunded(payment.provider_payment_ref) == 1450
    assert len(provider_book.refunds(payment.provider_payment_ref)) == 1


def cancels(method: str, path: str, body: bytes) -> bool:
    return method == "POST" and path.startswith("/v1/payment_intents/") and path.endswith(
        "/cancel")


def makes_a_refund(method: str, path: str, body: bytes) -> bool:
    return method == "POST" and path == "/v1/refunds"


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("held", [cancels, makes_a_refund], ids=[
    "cancelling an abandoned attempt", "giving back an overpayment"])
def test_a_worker_killed_in_the_middle_of_a_reconciliation_run(
        fresh_provider, app, processes, paid_order, product, opened_checkout, provider_book,
        short_leases, run_queue, held, when):
    # Left behind for reconciliation: an overpayment to give back (reserved, never sent),
    # and a card attempt whose buyer is long gone, to cancel at the provider. A run
    # settles attempts first, then refunds.
    paid = the_order().payments[0]
    overpayment = make_refund(paid, 1450, kind="overpayment")
    _, opened = opened_checkout(product.seller, product, email="bob@example.com")
    abandoned = db.session.scalar(db.select(Payment).filter_by(public_id=opened["payment"]))
    abandoned.created_at -= timedelta(seconds=app.config["FLOW_TOKEN_MAX_AGE"] + 60)
    db.session.commit()
    worker_killed_at(processes, when, "reconcile_payments", match=held)
    short_leases()

    get_tasks().enqueue("reconcile_payments")  # the restarted worker's next run
    run_queue()

    db.session.expire_all()
    assert overpayment.status == "succeeded"
    assert [r["amount"] for r in provider_book.refunds(paid.provider_payment_ref)] == [1450]
    [intent] = provider_book.intents(abandoned.order.public_id)
    assert (abandoned.status, intent["status"]) == ("canceled", "canceled")
    assert [i["status"] for i in provider_book.intents(paid.order.public_id)] == ["succeeded"]
    nothing_left_hanging()
