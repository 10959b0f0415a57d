"""Purchases and refunds through Buyflow's own endpoints while the provider misbehaves,
then reconciliation, then an audit against the provider: the figures the exactly-once
promises are about. For tests (tests/payments/test_fault_storm.py) and the benchmark
(bench/faults.py); never imported by the service.

``run_storm`` buys through the flow's calls (the page's script, without a browser: the
payment is confirmed with the card at localstripe directly, as Stripe.js would) and refunds each
paid order twice through the seller API with Idempotency-Keys, retrying what answered
5xx the way a buyer and a seller would. The app's provider must talk to localstripe
through ``proxy`` (a ``FaultProxy``), whose rule injects the faults. Afterwards the
faults stop, the leases run out, reconciliation runs, and ``audit`` compares every
order, payment and refund with what the provider holds.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from ..extensions import db
from ..models import Order
from ..payments.states import OPEN_PAYMENT_STATUSES, PaymentStatus, RefundKind, RefundStatus
from .provider_book import ProviderBook

_PAGE_DATA = re.compile(r'<script type="application/json" id="flow-data">(.*?)</script>', re.S)


@dataclass
class StormFigures:
    """What a storm did and what the audit found; the last five must be zero."""

    purchases: int = 0
    paid: int = 0
    refunds_asked: int = 0
    answers_5xx: int = 0  # answers a buyer or seller saw before their retry went through
    faults: Counter = field(default_factory=Counter)  # injected, by kind
    inconsistent: int = 0  # orders, payments or refunds that differ from the provider
    double_charges: int = 0  # orders charged more than once (less overpayments refunded)
    double_refunds: int = 0  # refunds made more than once at the provider
    over_refunded: int = 0  # payments refunded more than they took
    stuck: int = 0  # payments open but not waiting for the buyer, refunds still pending

    @property
    def failures(self) -> int:
        return (self.inconsistent + self.double_charges + self.double_refunds
                + self.over_refunded + self.stuck)


@dataclass(frozen=True)
class Shop:
    """Who sells in the storm: the seller's ids, its registered origin and its API key."""

    seller_id: str
    product_id: str
    origin: str
    api_key: str


_COUNTING = threading.Lock()


def _retrying(call, tries: int, figures: StormFigures):
    """``call()`` until it answers below 500, ``tries`` times at most."""
    for attempt in range(tries):
        answer = call()
        if answer.status_code < 500:
            return answer
        with _COUNTING:
            figures.answers_5xx += 1
        time.sleep(0.2 * (attempt + 1))
    return answer


def _purchase(app, shop: Shop, stripe_url: str, n: int, figures: StormFigures,
              tries: int) -> None:
    client = app.test_client()
    page = client.get("/flow/", query_string={"seller": shop.seller_id,
                                              "product": shop.product_id,
                                              "origin": shop.origin})
    flow = json.loads(_PAGE_DATA.search(page.text).group(1))["flow"]
    body = {"flow": flow, "email": f"storm{n}@example.com"}
    opened = _retrying(lambda: client.post("/flow/api/checkout", json=body), tries, figures)
    if opened.json.get("status") != "pending":
        return
    secret = opened.json["client_secret"]
    # The browser confirms the payment with the card at the provider (not through us).
    requests.post(f"{stripe_url}/v1/payment_intents/{secret.split('_secret_')[0]}/confirm",
                  json={"key": "pk_test_suite", "client_secret": secret,
                        "payment_method_data": {"type": "card", "card": {
                            "number": "4242424242424242", "exp_month": "12",
                            "exp_year": "2034", "cvc": "123"}}}, timeout=10)
    paid = _retrying(lambda: client.post("/flow/api/refresh", json={
        "flow": flow, "payment": opened.json["payment"]}), tries, figures)
    if paid.json.get("status") != "paid":
        return
    order_id = paid.json["order"]
    headers = {"Authorization": f"Bearer {shop.api_key}"}
    for part, body in (("a", {"amount": 500, "reason": "storm"}), ("b", {})):
        with _COUNTING:
            figures.refunds_asked += 1
        _retrying(lambda: client.post(  # noqa: B023 (called at once)
            f"/api/v1/orders/{order_id}/refunds", json=body,
            headers={**headers, "Idempotency-Key": f"storm-{order_id}-{part}"}),
            tries, figures)


def run_storm(app, shop: Shop, proxy, stripe_url: str, *, purchases: int,
              lease_seconds: float, workers: int = 4, tries: int = 4,
              run_tasks=lambda: None) -> StormFigures:
    """Run ``purchases`` purchases with their refunds against ``app`` while ``proxy``'s
    rule injects faults, then settle everything and audit it (see the module docstring).
    ``run_tasks`` runs the task queue's waiting tasks (unless the queue is immediate)."""
    from ..payments.reconcile import reconcile

    figures = StormFigures(purchases=purchases)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(_purchase, app, shop, stripe_url, n, figures, tries)
                       for n in range(purchases)]:
            future.result()
    figures.faults = Counter(r.fault.kind.value for r in proxy.log
                             if r.fault.kind.value != "pass")
    proxy.clear()
    proxy.wait_idle(60)  # stalled requests land now, long after their clients gave up
    time.sleep(lease_seconds + 0.1)
    with app.app_context():
        for _ in range(2):  # the second run settles what the first one started
            reconcile()
            run_tasks()
            db.session.remove()
        audit(ProviderBook(stripe_url), figures)
    return figures


def audit(book: ProviderBook, figures: StormFigures) -> StormFigures:
    """Compare every order, payment and refund in the database with the provider's, and
    count into ``figures`` what differs (see StormFigures)."""
    intents = book.all_intents()
    for order in db.session.scalars(db.select(Order).order_by(Order.id)):
        theirs = [i for i in intents if (i.get("metadata") or {}).get("buyflow_order")
                  == order.public_id]
        succeeded = [i for i in theirs if i["status"] == "succeeded"]
        ours = {p.provider_payment_ref: p for p in order.payments if p.provider_payment_ref}
        if order.status != "pending":
            figures.paid += 1
        overpaid = {p.payment_id for r in order.refunds for p in r.parts
                    if r.kind == RefundKind.OVERPAYMENT and p.status == RefundStatus.SUCCEEDED}
        charged = [i for i in succeeded if ours.get(i["id"]) is None
                   or ours[i["id"]].id not in overpaid]
        if len(charged) > 1:
            figures.double_charges += 1
        if (order.status == "pending") != (not succeeded):
            figures.inconsistent += 1
        for payment in order.payments:
            intent = next((i for i in theirs if i["id"] == payment.provider_payment_ref), None)
            # Open while it waits for the buyer (a card to confirm it with, their bank):
            # they may come back until the order expires. Anything else open is stuck.
            waiting = intent is not None and (
                intent["status"] == "requires_action"
                or (intent["status"] == "requires_payment_method"
                    and not intent.get("last_payment_error")))
            if payment.status in OPEN_PAYMENT_STATUSES and not waiting:
                figures.stuck += 1
            if (payment.status == PaymentStatus.SUCCEEDED) != (
                    intent is not None and intent["status"] == "succeeded"):
                figures.inconsistent += 1
        for intent in succeeded:
            refunds = book.refunds(intent["id"])
            made = [r for r in refunds if r["status"] == "succeeded"]
            keys = Counter((r.get("metadata") or {}).get("buyflow_refund") for r in made)
            figures.double_refunds += sum(n - 1 for key, n in keys.items() if key and n > 1)
            if sum(r["amount"] for r in made) > intent["amount"]:
                figures.over_refunded += 1
            payment = ours.get(intent["id"])
            recorded = sum(p.amount for r in order.refunds for p in r.parts
                           if payment is not None and p.payment_id == payment.id
                           and p.status == RefundStatus.SUCCEEDED)
            if recorded != sum(r["amount"] for r in made):
                figures.inconsistent += 1
        figures.stuck += sum(1 for r in order.refunds for p in r.parts
                             if p.status == RefundStatus.PENDING)
    return figures
