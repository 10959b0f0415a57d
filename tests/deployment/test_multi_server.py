"""Two app servers and two task workers on one PostgreSQL and one Redis (the cluster of
conftest.py): buyers pay and sellers refund through both servers at once, the provider's
webhooks reach both, the workers deliver the sellers' webhooks and the receipts, and
nothing happens twice."""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter

import pytest
import requests

from buyflow.extensions import db
from buyflow.models import Order, Payment, Refund, WebhookDelivery, WebhookEvent
from buyflow.sellers.requests import sign_purchase_request
from tests.conftest import at_once, page_data
from tests.deployment.conftest import SELLER_ORIGIN, needs_cluster, wait_until

pytestmark = needs_cluster

ORDERS = 6
PRICE = 1450
FIRST_REFUND = 500


def _open_flow(cluster, server: str, request_id: str, **params) -> requests.Response:
    return requests.get(f"{server}/flow/", timeout=30, headers={"X-Request-Id": request_id},
                        params={"seller": cluster.seller_id, "origin": SELLER_ORIGIN, **params})


def _buy(cluster, confirm_in_browser, run: str, index: int) -> tuple[str, str]:
    """One buyer's purchase: the page from one server, Pay on the other and again on the
    first (a double press through two load balancer targets), the card confirmed at the
    provider, then both servers asked how it ended at the same moment. The order's id and
    the buyer's email."""
    here, there = cluster.servers[index % 2], cluster.servers[(index + 1) % 2]
    email = f"cluster-{run}-{index}@example.com"
    page = _open_flow(cluster, here, f"cluster-{run}-{index}", product=cluster.product_id)
    assert page.status_code == 200, page.text
    flow = page_data(page.text)["flow"]
    pay = {"flow": flow, "email": email}
    opened = requests.post(f"{there}/flow/api/checkout", json=pay, timeout=60).json()
    pressed_again = requests.post(f"{here}/flow/api/checkout", json=pay, timeout=60).json()
    assert opened["status"] == "pending", opened
    assert pressed_again["payment"] == opened["payment"]
    assert confirm_in_browser(opened["client_secret"]) == "succeeded"
    answers = at_once(lambda server: _refresh(server, flow, opened["payment"]),
                      cluster.servers, workers=2)
    assert [answer["status"] for answer in answers] == ["paid", "paid"], answers
    assert answers[0]["order"] == answers[1]["order"] == opened["order"]
    return opened["order"], email


def _refresh(server: str, flow: str, payment: str) -> dict:
    """How the payment ended, asked as the flow's page asks: again while it is processing
    (as while the other server records it)."""
    deadline = time.monotonic() + 30
    while True:
        answer = requests.post(f"{server}/flow/api/refresh", timeout=60,
                               json={"flow": flow, "payment": payment}).json()
        if answer["status"] != "processing" or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def _refund_call(cluster, server: str, order_id: str, body: dict,
                 key: str | None = None) -> requests.Response:
    """A seller's refund call; one with a key still running elsewhere is asked again, as
    a seller's retry loop would."""
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    if key:
        headers["Idempotency-Key"] = key
    deadline = time.monotonic() + 30
    while True:
        answer = requests.post(f"{server}/api/v1/orders/{order_id}/refunds", json=body,
                               headers=headers, timeout=60)
        in_progress = (answer.status_code == 409
                       and answer.json()["error"]["code"] == "idempotency_in_progress")
        if not in_progress or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def _refund(cluster, run: str, index: int, order_id: str) -> None:
    """Part of the order refunded with an Idempotency-Key sent to both servers at once,
    then the rest asked for on both servers at once without a key: the key's refund is
    made once, and the rest once (the second finds nothing left)."""
    key = f"refund-{run}-{index}"
    keyed = at_once(lambda server: _refund_call(cluster, server, order_id,
                                                {"amount": FIRST_REFUND}, key),
                    cluster.servers, workers=2)
    assert [answer.status_code for answer in keyed] == [201, 201], [a.text for a in keyed]
    assert keyed[0].json()["id"] == keyed[1].json()["id"]
    rest = at_once(lambda server: _refund_call(cluster, server, order_id, {}),
                   cluster.servers, workers=2)
    made = [answer for answer in rest if answer.status_code == 201]
    refused = [answer for answer in rest if answer.status_code != 201]
    assert len(made) == len(refused) == 1, [answer.text for answer in rest]
    # Nothing left while the other's refund was pending, or the order already refunded.
    assert (refused[0].status_code, refused[0].json()["error"]["code"]) in (
        (422, "amount_exceeds_refundable"), (409, "order_not_paid"))
    made = made[0]
    assert made.json()["amount"] == PRICE - FIRST_REFUND


def test_two_servers_and_two_workers_pay_refund_and_deliver_each_once(
        cluster, confirm_in_browser, provider_book, mailbox):
    run = uuid.uuid4().hex[:8]
    bought = at_once(lambda index: _buy(cluster, confirm_in_browser, run, index),
                     range(ORDERS), workers=ORDERS)
    at_once(lambda entry: _refund(cluster, run, entry[0], entry[1][0]), list(enumerate(bought)),
            workers=ORDERS)

    with cluster.inspect.app_context():
        for order_id, _email in bought:
            order = db.session.scalar(db.select(Order).filter_by(public_id=order_id))
            assert order.status == "refunded"
            # Paid once: one succeeded payment here, one PaymentIntent there, succeeded.
            payments = db.session.scalars(db.select(Payment).filter_by(order_id=order.id)).all()
            assert [p.status for p in payments] == ["succeeded"]
            intents = provider_book.intents(order_id)
            assert [(i["id"], i["status"]) for i in intents] == [
                (payments[0].provider_payment_ref, "succeeded")]
            # Refunded once each, never above what was paid, here and there alike.
            refunds = db.session.scalars(db.select(Refund).filter_by(order_id=order.id)).all()
            assert sorted((r.amount, r.status) for r in refunds) == [
                (FIRST_REFUND, "succeeded"), (PRICE - FIRST_REFUND, "succeeded")]
            at_provider = provider_book.refunds(intents[0]["id"])
            assert sorted(r["amount"] for r in at_provider) == [FIRST_REFUND,
                                                                 PRICE - FIRST_REFUND]

        # Every event recorded once, and each delivered by the workers, once.
        def all_delivered() -> bool:
            db.session.expire_all()
            pending = db.session.scalar(db.select(db.func.count(WebhookDelivery.id)).where(
                WebhookDelivery.status != "delivered"))
            return pending == 0
        assert wait_until(all_delivered, timeout=30)
        events = db.session.scalars(db.select(WebhookEvent)).all()
        assert Counter(event.type for event in events) == {
            "order.completed": ORDERS, "payment.succeeded": ORDERS,
            "refund.completed": 2 * ORDERS}
        delivered = Counter(headers["webhook-id"] for headers, _ in cluster.receiver.requests)
        assert set(delivered) == {event.public_id for event in events}
        assert [webhook_id for webhook_id, times in delivered.items() if times > 1] == []

    # Each buyer's receipt mailed once.
    emails = [email for _order, email in bought]

    def receipts_sent() -> Counter:
        return Counter(address for message in list(mailbox.messages)
                       for address in emails if address in message["To"])
    assert wait_until(lambda: len(receipts_sent()) == ORDERS, timeout=30)
    assert receipts_sent() == {email: 1 for email in emails}

    # Both workers took tasks from the one queue (and both ran the periodic ones).
    for index in range(2):
        assert '"message": "Executing buyflow.' in cluster.worker_log(index)
    # The access log of the server that served each page names its request id.
    for index in range(ORDERS):
        assert f"request_id=cluster-{run}-{index}" in cluster.server_log(index % 2)


def test_a_signed_purchase_request_of_6_kb_opens_the_flow_on_every_server(cluster):
    # Random item names, so the token (compressed by itsdangerous) stays that long.
    request = {"currency": "EUR", "reference": f"big-{uuid.uuid4().hex[:8]}", "items": [
        {"name": secrets.token_urlsafe(87), "unit_amount": 100 + n} for n in range(50)]}
    token = sign_purchase_request(request, cluster.signing_secret)
    for index, server in enumerate(cluster.servers):
        page = _open_flow(cluster, server, f"big-request-{index}", request=token)
        request_line = f"GET {page.request.path_url} HTTP/1.1"
        assert 6 * 1024 <= len(request_line) <= 8190
        assert page.status_code == 200, page.text[:500]
        assert page_data(page.text)["flow"]


@pytest.mark.parametrize("index", [0, 1])
def test_every_server_is_ready(cluster, index):
    answer = requests.get(f"{cluster.servers[index]}/readyz", timeout=10)
    assert answer.status_code == 200, answer.text
