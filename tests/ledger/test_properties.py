"""Properties of the credit book over random sequences of movements (Hypothesis): every
transaction's entries sum to zero, no buyer balance goes below zero, every balance is the
sum of its entries, and the buyer's balance is what the movements say."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buyflow.buyers.identity import buyer_for_email
from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import LedgerAccount, LedgerEntry, LedgerTransaction
from tests.conftest import make_seller

_runs = itertools.count()

MOVES = st.lists(st.tuples(st.sampled_from(["grant", "debit", "hold", "capture", "release",
                                            "give_back"]),
                           st.integers(min_value=1, max_value=5000)),
                 min_size=1, max_size=25)


def check_invariants(seller) -> None:
    for transaction in db.session.scalars(db.select(LedgerTransaction).filter_by(
            seller_id=seller.id)):
        assert sum(e.amount for e in transaction.entries) == 0
    for account in db.session.scalars(db.select(LedgerAccount).filter_by(seller_id=seller.id)):
        total = db.session.scalar(db.select(db.func.coalesce(db.func.sum(LedgerEntry.amount), 0))
                                  .filter_by(account_id=account.id))
        assert account.balance == total
        if account.kind == "buyer":
            assert account.balance >= 0


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=MOVES)
def test_any_sequence_of_movements_keeps_the_book_balanced(app_context, moves):
    run = next(_runs)
    seller = make_seller(name=f"Shop {run}", api_key=f"sk_test_prop_{run}")
    buyer = buyer_for_email(f"prop{run}@example.com")
    db.session.commit()
    expected, holds = 0, []
    for n, (kind, amount) in enumerate(moves):
        key = f"{kind}-{n}"
        try:
            if kind == "grant":
                book.grant(seller, buyer, "EUR", amount, idempotency_key=key)
                expected += amount
            elif kind == "debit":
                book.debit(seller, buyer, "EUR", amount, idempotency_key=key)
                expected -= amount
            elif kind == "hold":
                holds.append(book.hold(seller, buyer, "EUR", amount, order_ref=f"ord_{n}",
                                       idempotency_key=key))
                expected -= amount
            elif kind in ("capture", "release") and holds:
                held = holds.pop(0)
                getattr(book, kind)(held)
                expected += -held.amount if kind == "release" else 0
            elif kind == "give_back":
                book.give_back(seller, buyer, "EUR", amount, spent=False, refund_ref=f"rp_{n}",
                               idempotency_key=key)
                expected += amount
            db.session.commit()
        except book.LedgerError as refused:
            assert refused.code == "insufficient_credit"
            db.session.rollback()
        assert book.balance(seller, buyer, "EUR") == expected >= 0
    check_invariants(seller)
