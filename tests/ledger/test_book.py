"""The credit book (ledger/book.py): double entry, append-only, never below zero, once
per idempotency key."""

import pytest

from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import LedgerAccount, LedgerEntry, LedgerTransaction, WebhookEvent


def entries_sum_per_transaction() -> set[int]:
    rows = db.session.execute(db.select(LedgerEntry.transaction_id,
                                        db.func.sum(LedgerEntry.amount))
                              .group_by(LedgerEntry.transaction_id)).all()
    return {total for _, total in rows}


def test_a_grant_and_a_debit_move_the_balance_and_sum_to_zero(seller, ann):
    book.grant(seller, ann, "EUR", 1000, idempotency_key="g1", reason="welcome",
               actor="api_key:1")
    book.debit(seller, ann, "EUR", 300, idempotency_key="d1", reason="correction")
    db.session.commit()

    assert book.balance(seller, ann, "EUR") == 700
    assert entries_sum_per_transaction() == {0}
    issued = db.session.scalar(db.select(LedgerAccount).filter_by(kind="issued"))
    assert issued.balance == -700  # what the seller has given out, net
    assert [t.amount for t in book.history(seller, ann)] == [-300, 1000]
    assert sorted(db.session.scalars(db.select(WebhookEvent.type))) == [
        "credit.debited", "credit.granted"]


def test_a_balance_never_goes_below_zero(seller, ann):
    book.grant(seller, ann, "EUR", 500, idempotency_key="g1")
    db.session.commit()
    with pytest.raises(book.LedgerError) as refused:
        book.debit(seller, ann, "EUR", 501, idempotency_key="d1")
    db.session.rollback()

    assert refused.value.code == "insufficient_credit"
    assert book.balance(seller, ann, "EUR") == 500
    assert db.session.scalar(db.select(db.func.count(LedgerTransaction.id))) == 1


def test_the_same_key_is_the_same_transaction_and_another_movement_is_refused(seller, ann):
    first = book.grant(seller, ann, "EUR", 500, idempotency_key="g1")
    again = book.grant(seller, ann, "EUR", 500, idempotency_key="g1")
    db.session.commit()
    assert again.id == first.id and book.balance(seller, ann, "EUR") == 500
    assert db.session.scalar(db.select(db.func.count(WebhookEvent.id))) == 1  # told once

    with pytest.raises(book.LedgerError) as refused:
        book.grant(seller, ann, "EUR", 600, idempotency_key="g1")
    assert (refused.value.code, refused.value.http_status) == ("idempotency_key_reused", 422)


def test_keys_are_each_sellers_own(seller, other_seller, ann):
    book.grant(seller, ann, "EUR", 500, idempotency_key="same")
    book.grant(other_seller, ann, "EUR", 200, idempotency_key="same")
    db.session.commit()
    assert (book.balance(seller, ann, "EUR"), book.balance(other_seller, ann, "EUR")) == (
        500, 200)
    assert [(b.seller.id, b.unit, b.amount) for b in book.balances_of(ann)] == [
        (seller.id, "EUR", 500), (other_seller.id, "EUR", 200)]


@pytest.mark.parametrize("unit", ["EUR", "eur", "JPY", "points:stars", "points:air-miles_2"])
def test_units_are_currencies_or_named_points(seller, ann, unit):
    book.grant(seller, ann, unit, 10, idempotency_key=f"g-{unit}")
    assert book.balance(seller, ann, book.valid_unit(unit)) == 10


@pytest.mark.parametrize("unit", ["EURO", "", "points:", "points:Stars", "stars", None])
def test_a_bad_unit_is_refused(seller, ann, unit):
    with pytest.raises(book.LedgerError) as refused:
        book.grant(seller, ann, unit, 10, idempotency_key="g1")
    assert refused.value.code == "invalid_unit"


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "10", 2**53 + 1])
def test_a_bad_amount_is_refused_and_writes_nothing(seller, ann, amount):
    with pytest.raises(book.LedgerError) as refused:
        book.grant(seller, ann, "EUR", amount, idempotency_key="g1")
    assert refused.value.code == "invalid_amount"
    assert db.session.scalar(db.select(db.func.count(LedgerTransaction.id))) == 0


def test_a_hold_is_taken_or_given_back_never_both(seller, ann):
    book.grant(seller, ann, "EUR", 1000, idempotency_key="g1")
    held = book.hold(seller, ann, "EUR", 800, order_ref="ord_1", idempotency_key="h1")
    assert book.balance(seller, ann, "EUR") == 200
    book.capture(held)
    book.capture(held)  # the same capture again: its key
    db.session.commit()

    accounts = {a.kind: a.balance for a in db.session.scalars(db.select(LedgerAccount))}
    assert accounts == {"issued": -1000, "buyer": 200, "held": 0, "redeemed": 800}
    assert entries_sum_per_transaction() == {0}


def test_the_database_itself_refuses_a_buyer_balance_below_zero(seller, ann):
    book.grant(seller, ann, "EUR", 100, idempotency_key="g1")
    db.session.commit()
    account = db.session.scalar(db.select(LedgerAccount).filter_by(kind="buyer"))
    with pytest.raises(Exception):
        db.session.execute(db.update(LedgerAccount).where(LedgerAccount.id == account.id)
                           .values(balance=-1))
        db.session.flush()
    db.session.rollback()
