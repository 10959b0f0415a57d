"""Properties of an order's balance over random sequences of payments, credit spends,
refunds and failures (Hypothesis): paid + due = total, per source refunded ≤ paid,
what can be refunded never negative, no credit balance below zero."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buyflow.buyers.identity import buyer_for_email
from buyflow.errors import CodedError
from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import Order, OrderItem
from buyflow.payments.balance import (
    amount_due,
    amount_held,
    amount_paid,
    refundable_amount,
    refundable_from,
    refunded_amount,
)
from buyflow.payments.credit import hold_credit
from buyflow.payments.offline import record_offline_payment
from buyflow.payments.refunds import create_refund
from tests.conftest import make_seller

_runs = itertools.count()

STEPS = st.lists(st.tuples(st.sampled_from(["grant", "hold", "offline", "refund",
                                            "refund_as_credit"]),
                           st.integers(min_value=1, max_value=3000)),
                 min_size=1, max_size=15)


def check(order: Order) -> None:
    db.session.expire_all()
    paid, total = amount_paid(order), order.amount
    assert 0 <= amount_due(order) == max(0, total - paid)
    assert paid <= total  # a payment never takes more than is due (offline refuses it)
    parts = [p for r in order.refunds for p in r.parts]
    for payment in order.payments:
        assert 0 <= refundable_from(payment, parts) <= payment.amount
    assert 0 <= refunded_amount(order) <= paid
    assert 0 <= refundable_amount(order) <= paid
    assert (order.status == "pending") == (paid < total)
    if order.status == "pending":
        assert amount_held(order) <= total - paid
    assert book.balance(order.seller, order.buyer, "EUR") >= 0


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(total=st.integers(min_value=1, max_value=5000), steps=STEPS)
def test_any_sequence_keeps_the_order_balance_true(app_context, total, steps):
    run = next(_runs)
    seller = make_seller(name=f"Shop {run}", api_key=f"sk_test_balance_{run}")
    seller.allow_partial_offline = True
    buyer = buyer_for_email(f"balance{run}@example.com")
    order = Order(seller=seller, buyer=buyer, buyer_email=buyer.email,
                  checkout_key=f"balance-{run}", amount=total, currency="EUR")
    order.items.append(OrderItem(name="Beans", quantity=1, unit_amount=total, amount=total))
    db.session.add(order)
    db.session.commit()
    for n, (kind, amount) in enumerate(steps):
        try:
            if kind == "grant":
                book.grant(seller, buyer, "EUR", amount, idempotency_key=f"g{n}")
            elif kind == "hold":
                hold_credit(order, buyer, amount)
            elif kind == "offline":
                record_offline_payment(order, method="cash", amount=amount,
                                       reference=f"till {n}", recorded_by="api_key:1")
            else:
                db.session.commit()
                create_refund(order, amount, "property",
                              destination="credit" if kind == "refund_as_credit" else "source")
            db.session.commit()
        except (CodedError, ValueError):
            db.session.rollback()  # refused: nothing written
        check(order)
