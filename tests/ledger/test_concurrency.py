"""Spending one balance from many threads at once: never below zero, never more spent
than there was (on SQLite and, in CI's second pass, PostgreSQL)."""

import pytest

from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import LedgerTransaction
from tests.conftest import at_once


@pytest.mark.parametrize("spend", ["debit", "hold"])
def test_concurrent_spends_of_one_balance_never_overdraw_it(app, seller, ann, spend):
    book.grant(seller, ann, "EUR", 1000, idempotency_key="g1")
    db.session.commit()
    seller_id, buyer_id = seller.id, ann.id

    def one(n):
        with app.app_context():
            from buyflow.models import Buyer, Seller

            shop, buyer = db.session.get(Seller, seller_id), db.session.get(Buyer, buyer_id)
            try:
                if spend == "debit":
                    book.debit(shop, buyer, "EUR", 100, idempotency_key=f"d{n}")
                else:
                    book.hold(shop, buyer, "EUR", 100, order_ref=f"ord_{n}",
                              idempotency_key=f"h{n}")
                db.session.commit()
                return "spent"
            except book.LedgerError as refused:
                db.session.rollback()
                return refused.code
            finally:
                db.session.remove()

    outcomes = at_once(one, range(30), workers=12)

    assert outcomes.count("spent") == 10
    assert set(outcomes) == {"spent", "insufficient_credit"}
    db.session.expire_all()
    assert book.balance(seller, ann, "EUR") == 0
    assert db.session.scalar(db.select(db.func.count(LedgerTransaction.id))) == 11
