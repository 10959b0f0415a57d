"""Properties of an order's balance over random sequences of payments, credit spends,
refunds and failures (Hypothesis): paid + due = total, paid never above the total,
per payment and per order refunded ≤ paid, what can be refunded never negative, a
refund's status what its parts say, the ledger summing to zero and agreeing with the
order's credit payments and refunds, no credit balance below zero.

Card payments and their refunds go through the real money paths (``charges``,
``refunds``) and the one status writer; only the card provider's answers are scripted
(``ScriptedCards``, drawn per step): a charge succeeds or is declined; a refund
succeeds, fails, is refused, is still processing (its webhook comes in a later step) or
is made with its answer lost (retried in a later step, under the same key).
"""

import itertools

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from buyflow.buyers.identity import buyer_for_email
from buyflow.errors import CodedError
from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Order,
    OrderItem,
    Refund,
)
from buyflow.payments.balance import (
    amount_due,
    amount_held,
    amount_paid,
    refundable_amount,
    refundable_from,
    refunded_amount,
)
from buyflow.payments.base import (
    REFUND_METADATA_KEY,
    CardDetails,
    ChargeOutcome,
    ChargeProvider,
    PaymentError,
    RefundOutcome,
    RefundProvider,
    SavedCard,
)
from buyflow.payments.charges import OrderNotPayable, charge, open_attempt
from buyflow.payments.credit import hold_credit
from buyflow.payments.offline import record_offline_payment
from buyflow.payments.reconcile import apply_provider_refund
from buyflow.payments.refunds import create_refund, execute_refund
from buyflow.payments.states import Action, RefundAction
from tests.conftest import make_seller

_runs = itertools.count()
_refs = itertools.count()

CARD = SavedCard(method_ref="pm_scripted", card=CardDetails("visa", "4242", 12, 2034))


class ScriptedCards(ChargeProvider, RefundProvider):
    """The card provider's money calls answered as the current step says, with no
    network. What it answered is kept per idempotency key, as a provider does: a call
    repeated under the same key gets the first answer. The calls these steps never make
    fail the test."""

    name = "stripe"

    def __init__(self):
        self.charge_answer = "succeed"  # or "decline"
        self.refund_answer = "succeed"  # or "fail", "refused", "pending", "lost"
        self.refunds: dict[str, RefundOutcome] = {}

    def charge(self, request):
        ref = f"pi_scripted_{next(_refs)}"
        if self.charge_answer == "succeed":
            return ChargeOutcome(Action.SUCCEED, ref, card=CARD)
        return ChargeOutcome(Action.FAIL, ref, failure_code="card_declined")

    def refund(self, payment_ref, amount, idempotency_key, metadata):
        if idempotency_key not in self.refunds:
            answer = self.refund_answer
            if answer == "refused":  # the provider did not act
                raise PaymentError("refund_failed", "refused by the scripted provider")
            action = {"succeed": RefundAction.SUCCEED, "lost": RefundAction.SUCCEED,
                      "fail": RefundAction.FAIL, "pending": None}[answer]
            self.refunds[idempotency_key] = RefundOutcome(
                reference=f"re_scripted_{next(_refs)}", action=action, payment_ref=payment_ref,
                refund_public_id=metadata[REFUND_METADATA_KEY], amount=amount.amount,
                failure_code="expired_or_canceled_card" if action == RefundAction.FAIL
                else None)
            if answer == "lost":  # made at the provider, its answer lost on the way
                raise PaymentError("provider_unavailable", "connection reset")
        return self.refunds[idempotency_key]

    def _not_asked(self, *args, **kwargs):
        raise AssertionError("these steps never make this provider call")

    start_browser_charge = charge_status = cancel_charge = find_charge = list_charges = \
        refund_status = find_refund = list_refunds = _not_asked


@pytest.fixture
def cards(app, monkeypatch):
    """The app's card provider replaced by a ScriptedCards for the test."""
    provider = ScriptedCards()
    monkeypatch.setitem(app.extensions["buyflow.payment_sources"], "stripe", provider)
    return provider


AMOUNTS = st.integers(min_value=1, max_value=3000)
# A refund's amount: None asks for all that is left, as the seller API allows.
REFUND_AMOUNTS = st.none() | st.integers(min_value=1, max_value=1500)
ANSWERS = {
    "card": ("succeed", "decline"),
    "refund": ("pending", "succeed", "fail", "refused", "lost"),
    # The provider's word on refunds left pending: a webhook for one it still processed
    # (succeeded or failed), a retry under the same key for one whose answer was lost.
    "provider_settles": ("succeed", "fail"),
}


def _steps(kinds, max_size):
    return st.lists(st.sampled_from(kinds).flatmap(lambda kind: st.tuples(
        st.just(kind), REFUND_AMOUNTS if kind.startswith("refund") else AMOUNTS,
        st.sampled_from(ANSWERS.get(kind, (None,))))), min_size=1, max_size=max_size)


# A few ways of paying first (so that most orders are paid, often by several sources),
# then anything, refunds drawn more often. Hypothesis favours the first of each list.
PAYING = ("offline", "card", "grant", "hold")
ANY = ("refund", "provider_settles", "refund", "refund_as_credit") + PAYING
STEPS = st.tuples(_steps(PAYING, 5), _steps(ANY, 10)).map(lambda both: both[0] + both[1])


def _sum(query) -> int:
    return db.session.scalar(query) or 0


def check(order: Order, granted: int) -> None:
    db.session.expire_all()
    paid, total = amount_paid(order), order.amount
    assert 0 <= amount_due(order) == max(0, total - paid)
    assert paid <= total  # no payment takes more than is due
    parts = [p for r in order.refunds for p in r.parts]
    assert all(r.kind == "order" for r in order.refunds)  # nothing overpaid to give back
    for payment in order.payments:
        mine = [p for p in parts if p.payment_id == payment.id]
        if payment.status != "succeeded":
            assert mine == []  # only what was taken is given back
        assert 0 <= refundable_from(payment, parts) <= payment.amount
        assert sum(p.amount for p in mine if p.status != "failed") <= payment.amount
    assert 0 <= refunded_amount(order) <= paid
    assert 0 <= refundable_amount(order) <= paid
    # What the order can still refund is what its payments can still give back.
    assert refundable_amount(order) == sum(refundable_from(p, parts) for p in order.payments)
    for refund in order.refunds:
        assert refund.amount == sum(p.amount for p in refund.parts)
        statuses = {p.status for p in refund.parts}
        expected = ("pending" if "pending" in statuses else
                    "succeeded" if statuses == {"succeeded"} else
                    "failed" if statuses == {"failed"} else "partially_succeeded")
        assert refund.status == expected
    assert (order.status == "pending") == (paid < total)
    if order.status == "pending":
        assert amount_held(order) <= total - paid
    if order.status in ("partially_refunded", "refunded"):
        assert refunded_amount(order) > 0
    if order.status == "refunded":
        assert refundable_amount(order) == 0
    _check_ledger(order, granted)


def _check_ledger(order: Order, granted: int) -> None:
    """Every transaction sums to zero, every balance is its entries' sum, the seller's
    accounts sum to zero, and the credit moved is what the order's rows say."""
    seller, buyer = order.seller, order.buyer
    for transaction in db.session.scalars(db.select(LedgerTransaction).filter_by(
            seller_id=seller.id)):
        assert sum(e.amount for e in transaction.entries) == 0
    accounts = db.session.scalars(db.select(LedgerAccount).filter_by(seller_id=seller.id)).all()
    for account in accounts:
        assert account.balance == _sum(db.select(db.func.sum(LedgerEntry.amount))
                                       .filter_by(account_id=account.id))
        assert account.kind != "buyer" or account.balance >= 0
    assert sum(a.balance for a in accounts) == 0
    credit = [p for p in order.payments if p.provider == "credit"]
    held = sum(p.amount for p in credit if p.status == "authorized")
    assert sum(a.balance for a in accounts if a.kind == "held") == held
    spent = sum(p.amount for p in credit if p.status in ("authorized", "succeeded"))
    given_back = sum(p.amount for r in order.refunds for p in r.parts if p.status == "succeeded"
                     and (p.destination == "credit" or p.payment.provider == "credit"))
    assert book.balance(seller, buyer, "EUR") == granted - spent + given_back >= 0


def _settle_pending(order: Order, answer: str, event: str) -> None:
    """What the provider says later of the order's refund parts left pending."""
    pending = [p for r in order.refunds for p in r.parts if p.status == "pending"]
    for part in pending:
        if part.provider_refund_ref:  # still processed there: its webhook arrives
            apply_provider_refund(RefundOutcome(
                reference=part.provider_refund_ref,
                action=RefundAction.SUCCEED if answer == "succeed" else RefundAction.FAIL,
                payment_ref=part.payment.provider_payment_ref, refund_public_id=part.public_id,
                amount=part.amount, failure_code=None if answer == "succeed" else "declined"),
                provider_event_id=f"{event}/{part.provider_refund_ref}")
            db.session.commit()
    for refund_id in {p.refund_id for p in pending if not p.provider_refund_ref}:
        # Its answer was lost: retried under the same key, the provider answers what it
        # did the first time.
        execute_refund(db.session.get(Refund, refund_id))


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(total=st.integers(min_value=1, max_value=5000), steps=STEPS)
# Always tried, whatever is drawn: credit and a card, a card refund failing then all of
# it refunded; offline, a declined card then one that pays, a card refund failing by
# webhook beside an offline part that succeeded; a refund whose answer was lost, one
# refused, then the lost one retried; a card refund still processing, then a refund
# only the offline payment can still cover.
@example(total=2000, steps=[("grant", 800, None), ("hold", 500, None), ("card", 1, "succeed"),
                            ("refund", 1200, "fail"), ("refund", None, "succeed")])
@example(total=3000, steps=[("offline", 1000, None), ("card", 1, "decline"),
                            ("card", 1, "succeed"), ("refund", 2500, "pending"),
                            ("provider_settles", 1, "fail"), ("refund_as_credit", None, None)])
@example(total=1450, steps=[("card", 1, "succeed"), ("refund", 400, "lost"),
                            ("refund", 400, "refused"), ("provider_settles", 1, "succeed"),
                            ("refund", None, "succeed")])
@example(total=1450, steps=[("offline", 450, None), ("card", 1, "succeed"),
                            ("refund", 800, "pending"), ("refund", 600, "succeed")])
def test_any_sequence_keeps_the_order_balance_true(app_context, cards, total, steps):
    run = next(_runs)
    seller = make_seller(name=f"Shop {run}", api_key=f"sk_test_balance_{run}")
    seller.allow_partial_offline = True
    buyer = buyer_for_email(f"balance{run}@example.com")
    order = Order(seller=seller, buyer=buyer, buyer_email=buyer.email,
                  checkout_key=f"balance-{run}", amount=total, currency="EUR")
    order.items.append(OrderItem(name="Beans", quantity=1, unit_amount=total, amount=total))
    db.session.add(order)
    db.session.commit()
    granted = 0
    for n, (kind, amount, answer) in enumerate(steps):
        try:
            if kind == "grant":
                book.grant(seller, buyer, "EUR", amount, idempotency_key=f"g{n}")
                db.session.commit()
                granted += amount
            elif kind == "hold":
                hold_credit(order, buyer, amount)
            elif kind == "offline":
                record_offline_payment(order, method="cash", amount=amount,
                                       reference=f"till {n}", recorded_by="api_key:1")
            elif kind == "card":  # a saved card charged for what is left to pay
                cards.charge_answer = answer
                payment, _ = open_attempt(order, f"entry-{run}-{n}", CARD)
                charge(payment)
            elif kind == "provider_settles":
                _settle_pending(order, answer, f"evt-{run}-{n}")
            else:
                db.session.commit()
                cards.refund_answer = answer or "succeed"
                create_refund(order, amount, "property",
                              destination="credit" if kind == "refund_as_credit" else "source")
            db.session.commit()
        except (CodedError, ValueError, OrderNotPayable):
            db.session.rollback()  # refused (what was recorded before is committed)
        check(order, granted)
