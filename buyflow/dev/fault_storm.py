"""Purchases and refunds through Buyflow's own endpoints while the provider misbehaves,
then reconciliation, then an audit against the provider: the figures the exactly-once
promises are about. For tests (tests/payments/test_fault_storm.py) and the benchmark
(bench/faults.py); never imported by the service.

``run_storm`` buys through the flow's calls (the page's script, without a browser: a new
card's payment is confirmed with the card at localstripe directly, as Stripe.js would).
Of every three purchases, the first is a buyer's with a new card; the second another
buyer's, who confirms the code mailed to them (``read_code`` reads it, as they would)
and keeps the new card; the third that buyer's again, in a new flow, with the card they
kept (``/flow/api/pay-saved``, when the second purchase kept it). Each paid order is
refunded twice through the seller API with Idempotency-Keys. What answered 5xx is sent
again the way a buyer and a seller would, ``tries`` times in all. The app's provider
must talk to localstripe through ``proxy`` (a ``FaultProxy``), whose rule injects the
faults.

Afterwards the faults stop, the leases run out and reconciliation runs. Then each seller
sends once more every refund request it never had an answer below 500 to (a key whose
answer was a 5xx is never forgotten: its retry resumes the same work), and ``audit``
compares every order, payment and refund with what the provider holds, and counts the
Idempotency-Keys still unfinished.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import requests

from ..extensions import db
from ..models import IdempotencyRecord, Order
from ..payments.states import OPEN_PAYMENT_STATUSES, PaymentStatus, RefundKind, RefundStatus
from .provider_book import ProviderBook

_PAGE_DATA = re.compile(r'<script type="application/json" id="flow-data">(.*?)</script>', re.S)


@dataclass
class StormFigures:
    """What a storm did and what the audit found; the ones ``failures`` sums must be zero."""

    purchases: int = 0
    saved_card_purchases: int = 0  # purchases paid (or tried) with a card kept earlier
    paid: int = 0
    paid_by_saved_card: int = 0
    refunds_asked: int = 0
    answers_5xx: int = 0  # answers a buyer or seller saw before their retry went through
    late_retries: int = 0  # refund requests sent again after reconciliation (see above)
    faults: Counter = field(default_factory=Counter)  # injected, by kind
    inconsistent: int = 0  # orders, payments or refunds that differ from the provider
    double_charges: int = 0  # orders charged more than once (less overpayments refunded)
    double_refunds: int = 0  # refunds made more than once at the provider
    over_refunded: int = 0  # payments refunded more than they took
    stuck: int = 0  # payments open but not waiting for the buyer, refunds still pending
    stuck_saved_card: int = 0  # of ``stuck``, the payments with a saved card
    unfinished_keys: int = 0  # Idempotency-Keys still in progress after the late retries

    @property
    def failures(self) -> int:
        return (self.inconsistent + self.double_charges + self.double_refunds
                + self.over_refunded + self.stuck + self.unfinished_keys)


@dataclass(frozen=True)
class Shop:
    """Who sells in the storm: the seller's ids, its registered origin and its API key."""

    seller_id: str
    product_id: str
    origin: str
    api_key: str


@dataclass
class _Storm:
    """What every buyer of one storm shares; ``unanswered`` collects the refund requests
    (order id, Idempotency-Key, body) whose last answer was a 5xx."""

    app: object
    shop: Shop
    stripe_url: str
    tries: int
    read_code: Callable[[str], str]
    figures: StormFigures
    unanswered: list[tuple[str, str, dict]] = field(default_factory=list)
    counting: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str) -> None:
        with self.counting:
            setattr(self.figures, name, getattr(self.figures, name) + 1)


class _Buyer:
    """One buyer: their own browser (a test client, from an address of their own, as the
    rate limits tell people apart) and email."""

    def __init__(self, storm: _Storm, n: int):
        self.storm = storm
        self.email = f"storm{n}@example.com"
        self.client = storm.app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"

    def _sending(self, path: str, body: dict, headers: dict | None = None):
        """POST ``body`` to ``path`` until it answers below 500, ``tries`` times at most;
        the last answer."""
        for attempt in range(self.storm.tries):
            answer = self.client.post(path, json=body, headers=headers)
            if answer.status_code < 500:
                return answer
            self.storm.count("answers_5xx")
            time.sleep(0.2 * (attempt + 1))
        return answer

    def open_flow(self) -> str:
        """The flow token of a new flow for the shop's product, as the embed opens it."""
        shop = self.storm.shop
        page = self.client.get("/flow/", query_string={
            "seller": shop.seller_id, "product": shop.product_id, "origin": shop.origin})
        return json.loads(_PAGE_DATA.search(page.text).group(1))["flow"]

    def unlock(self, flow: str) -> dict:
        """Ask for the saved-cards code and confirm it as mailed: the answer's JSON (the
        card token, the saved cards). Nothing here calls the provider."""
        _expect_ok(self.client.post("/flow/api/saved-cards/code",
                                    json={"flow": flow, "email": self.email}))
        return _expect_ok(self.client.post("/flow/api/saved-cards/confirm", json={
            "flow": flow, "email": self.email, "code": self.storm.read_code(self.email)}))

    def pay_with_new_card(self, flow: str, keep_with: str | None = None) -> str | None:
        """Pay in ``flow`` with a new card (kept when ``keep_with``, a card token, is
        given); the order's id once paid, else None."""
        self.storm.count("purchases")
        keep = {"card_token": keep_with, "save": True} if keep_with else {}
        opened = self._sending("/flow/api/checkout",
                               {"flow": flow, "email": self.email, **keep})
        if opened.json.get("status") != "pending":
            return None
        secret = opened.json["client_secret"]
        # The browser confirms the payment with the card at the provider (not through us).
        requests.post(
            f"{self.storm.stripe_url}/v1/payment_intents/{secret.split('_secret_')[0]}/confirm",
            json={"key": "pk_test_suite", "client_secret": secret,
                  "payment_method_data": {"type": "card", "card": {
                      "number": "4242424242424242", "exp_month": "12",
                      "exp_year": "2034", "cvc": "123"}}}, timeout=10)
        return self._paid(self._sending("/flow/api/refresh", {
            "flow": flow, "payment": opened.json["payment"]}))

    def pay_with_saved_card(self, flow: str, unlocked: dict) -> str | None:
        """Pay in ``flow`` with the first saved card ``unlocked`` shows, one press of Pay
        (its attempt id sent again on a retry); the order's id once paid, else None."""
        self.storm.count("purchases")
        self.storm.count("saved_card_purchases")
        return self._paid(self._sending("/flow/api/pay-saved", {
            "flow": flow, "card_token": unlocked["card_token"],
            "card": unlocked["cards"][0]["id"], "attempt": secrets.token_hex(16)}))

    @staticmethod
    def _paid(answer) -> str | None:
        return answer.json["order"] if answer.json.get("status") == "paid" else None

    def refund_twice(self, order_id: str | None) -> None:
        """The seller refunds 5.00 of the paid order ``order_id``, then the rest, each
        under its own Idempotency-Key. Nothing when the order was not paid."""
        if order_id is None:
            return
        for part, body in (("a", {"amount": 500, "reason": "storm"}), ("b", {})):
            self.storm.count("refunds_asked")
            key = f"storm-{order_id}-{part}"
            answer = self._sending(f"/api/v1/orders/{order_id}/refunds", body,
                                   _seller_headers(self.storm.shop, key))
            if answer.status_code >= 500:
                with self.storm.counting:
                    self.storm.unanswered.append((order_id, key, body))


def _expect_ok(answer) -> dict:
    """The JSON of a 200 answer; RuntimeError for any other (the storm cannot go on)."""
    if answer.status_code != 200:
        raise RuntimeError(f"{answer.request.path} answered {answer.status_code}: {answer.text}")
    return answer.json


def _seller_headers(shop: Shop, key: str) -> dict:
    return {"Authorization": f"Bearer {shop.api_key}", "Idempotency-Key": key}


def _first_time_buyer(storm: _Storm, n: int) -> None:
    """Purchase ``n``: a new card, not kept."""
    buyer = _Buyer(storm, n)
    buyer.refund_twice(buyer.pay_with_new_card(buyer.open_flow()))


def _returning_buyer(storm: _Storm, n: int, again: bool) -> None:
    """Purchase ``n``: a new card, kept after the mailed code; with ``again``, purchase
    ``n + 1`` by the same buyer in a new flow with that card (when it was kept)."""
    buyer = _Buyer(storm, n)
    flow = buyer.open_flow()
    buyer.refund_twice(buyer.pay_with_new_card(flow, keep_with=buyer.unlock(flow)["card_token"]))
    if not again:
        return
    flow = buyer.open_flow()
    unlocked = buyer.unlock(flow)
    if unlocked["cards"]:  # kept once paid: a purchase the faults stopped kept nothing
        buyer.refund_twice(buyer.pay_with_saved_card(flow, unlocked))


def _buyers(storm: _Storm, purchases: int) -> list[Callable[[], None]]:
    """Each buyer's part of ``purchases`` purchases (see the module docstring), those
    buying twice first (the storm ends sooner when the longest parts start first)."""
    returning = [partial(_returning_buyer, storm, n, again=n + 1 < purchases)
                 for n in range(1, purchases, 3)]
    return returning + [partial(_first_time_buyer, storm, n) for n in range(0, purchases, 3)]


def run_storm(app, shop: Shop, proxy, stripe_url: str, *, purchases: int,
              read_code: Callable[[str], str], lease_seconds: float, workers: int = 4,
              tries: int = 4, run_tasks=lambda: None) -> StormFigures:
    """Run ``purchases`` purchases with their refunds against ``app`` while ``proxy``'s
    rule injects faults, then settle everything and audit it (see the module docstring).
    ``read_code(email)`` is the code in the newest mail to ``email``; ``run_tasks`` runs
    the task queue's waiting tasks (unless the queue is immediate)."""
    from ..payments.reconcile import reconcile

    storm = _Storm(app, shop, stripe_url, tries, read_code, StormFigures())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(buyer) for buyer in _buyers(storm, purchases)]:
            future.result()
    figures = storm.figures
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
    seller = app.test_client()
    for order_id, key, body in storm.unanswered:  # the sellers try again, once
        figures.late_retries += 1
        seller.post(f"/api/v1/orders/{order_id}/refunds", json=body,
                    headers=_seller_headers(shop, key))
    with app.app_context():
        run_tasks()
        db.session.remove()
        audit(ProviderBook(stripe_url), figures)
    return figures


def audit(book: ProviderBook, figures: StormFigures) -> StormFigures:
    """Compare every order, payment and refund in the database with the provider's, and
    count into ``figures`` what differs, what is stuck and the Idempotency-Keys left
    unfinished (see StormFigures)."""
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
            # they may come back until the order expires. Anything else open is stuck. A
            # saved card is charged from here in one call: it may wait for the bank, never
            # for a card.
            saved_card = (payment.provider_setup_ref or "").startswith("saved-")
            waiting = intent is not None and (
                intent["status"] == "requires_action"
                or (intent["status"] == "requires_payment_method" and not saved_card
                    and not intent.get("last_payment_error")))
            if payment.status in OPEN_PAYMENT_STATUSES and not waiting:
                figures.stuck += 1
                figures.stuck_saved_card += saved_card
            if (payment.status == PaymentStatus.SUCCEEDED) != (
                    intent is not None and intent["status"] == "succeeded"):
                figures.inconsistent += 1
            if saved_card and payment.status == PaymentStatus.SUCCEEDED:
                figures.paid_by_saved_card += 1
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
    # A key whose work never finished answers its retry by resuming that work: once the
    # sellers retried, none may be left.
    figures.unfinished_keys += db.session.scalar(db.select(db.func.count(
        IdempotencyRecord.id)).where(IdempotencyRecord.status == "in_progress"))
    return figures
