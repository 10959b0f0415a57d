"""The credit book: accounts, balances, and the only way units move — a transaction.

A seller's units (a currency's minor units, or its named points ``points:<name>``) are
held in accounts: each buyer's, and the seller's own ``issued`` (where granted units come
from and debited ones go back to), ``held`` (reserved for an unpaid order) and
``redeemed`` (spent on orders). ``post`` writes one transaction and its entries, which
sum to zero, and moves the balances by the same statements; a buyer's balance never goes
below zero, whatever runs at the same time: the move is a conditional update (PostgreSQL
re-checks it after waiting for a concurrent one; SQLite writers run one at a time) and a
check constraint backs it. Nothing is ever changed afterwards: a correction is another
transaction.

Every transaction carries an idempotency key, unique per seller: posting the same key
again returns the first transaction when it was the same movement, and refuses
(``idempotency_key_reused``) when it was another. Functions flush; callers commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import or_, update

from ..errors import CodedError
from ..events import announce
from ..extensions import db
from ..models import Buyer, LedgerAccount, LedgerEntry, LedgerTransaction, Seller
from ..models._base import insert_for
from ..money import UnknownCurrency, currency_exponent

BUYER, ISSUED, HELD, REDEEMED = "buyer", "issued", "held", "redeemed"
KINDS = ("grant", "debit", "hold", "capture", "release", "refund")
_POINTS = re.compile(r"points:[a-z0-9][a-z0-9_-]{0,31}")
MAX_AMOUNT = 2**53


class LedgerError(CodedError):
    """insufficient_credit (409), invalid_amount, invalid_unit, idempotency_key_reused (422)."""


def valid_unit(unit: object) -> str:
    """``unit`` as the ledger keeps it (a currency in upper case, or ``points:<name>``);
    LedgerError ``invalid_unit`` otherwise."""
    if isinstance(unit, str) and _POINTS.fullmatch(unit):
        return unit
    try:
        currency_exponent(unit)
        return unit.upper()
    except UnknownCurrency:
        raise LedgerError("invalid_unit", "A unit is a currency code (EUR) or points "
                          "named points:<name> (lower case letters, digits, - and _).") from None


def _account(seller_id: int, buyer_id: int | None, unit: str, kind: str) -> LedgerAccount:
    """The account, made on first use (once, however many ask at the same moment)."""
    where = (LedgerAccount.buyer_id.is_(None) if buyer_id is None
             else LedgerAccount.buyer_id == buyer_id)
    found = db.session.scalar(db.select(LedgerAccount).where(
        LedgerAccount.seller_id == seller_id, where, LedgerAccount.unit == unit,
        LedgerAccount.kind == kind))
    if found is not None:
        return found
    if buyer_id is None:  # the seller's own: one partial unique index each
        index, predicate = ["seller_id", "unit", "kind"], LedgerAccount.buyer_id.is_(None)
    else:
        index = ["seller_id", "buyer_id", "unit", "kind"]
        predicate = LedgerAccount.buyer_id.is_not(None)
    db.session.execute(
        insert_for(db.session, LedgerAccount)
        .values(seller_id=seller_id, buyer_id=buyer_id, unit=unit, kind=kind, balance=0)
        .on_conflict_do_nothing(index_elements=index, index_where=predicate)
    )
    return db.session.scalar(db.select(LedgerAccount).where(
        LedgerAccount.seller_id == seller_id, where, LedgerAccount.unit == unit,
        LedgerAccount.kind == kind))


def balance(seller: Seller, buyer: Buyer, unit: str) -> int:
    """What ``buyer`` holds of ``seller``'s ``unit`` (0 for an account never used)."""
    return db.session.scalar(db.select(LedgerAccount.balance).where(
        LedgerAccount.seller_id == seller.id, LedgerAccount.buyer_id == buyer.id,
        LedgerAccount.unit == unit, LedgerAccount.kind == BUYER)) or 0


@dataclass(frozen=True)
class Balance:
    seller: Seller
    unit: str
    amount: int


def balances_of(buyer: Buyer) -> list[Balance]:
    """Every balance ``buyer`` has, with any seller, in any unit (even 0 once used)."""
    accounts = db.session.scalars(db.select(LedgerAccount).where(
        LedgerAccount.buyer_id == buyer.id, LedgerAccount.kind == BUYER)
        .order_by(LedgerAccount.seller_id, LedgerAccount.unit)).all()
    return [Balance(a.seller, a.unit, a.balance) for a in accounts]


def history(seller: Seller, buyer: Buyer, unit: str | None = None,
            before_id: int | None = None, limit: int = 50) -> list[LedgerTransaction]:
    """``buyer``'s transactions with ``seller`` (in ``unit``), newest first, a page at a
    time (``before_id``: the last one of the previous page)."""
    query = db.select(LedgerTransaction).where(LedgerTransaction.seller_id == seller.id,
                                               LedgerTransaction.buyer_id == buyer.id)
    if unit is not None:
        query = query.where(LedgerTransaction.unit == unit)
    if before_id is not None:
        query = query.where(LedgerTransaction.id < before_id)
    return db.session.scalars(query.order_by(LedgerTransaction.id.desc()).limit(limit)).all()


def post(*, seller: Seller, buyer: Buyer, unit: str, kind: str,
         moves: list[tuple[str, int]], source_type: str, source_ref: str | None,
         idempotency_key: str, reason: str = "", actor: str = "system") -> LedgerTransaction:
    """Write a transaction moving units between ``seller``'s accounts: ``moves`` names each
    account by kind (BUYER is ``buyer``'s) with the amount it gains (negative: loses);
    they must sum to zero. The buyer's gain or loss is the transaction's ``amount``.
    LedgerError: insufficient_credit when a buyer's balance would go below zero;
    idempotency_key_reused when the key was used for another movement."""
    return _post(seller=seller, buyer=buyer, unit=unit, kind=kind, moves=moves,
                 source_type=source_type, source_ref=source_ref,
                 idempotency_key=idempotency_key, reason=reason, actor=actor)[0]


def _post(*, seller, buyer, unit, kind, moves, source_type, source_ref, idempotency_key,
          reason, actor) -> tuple[LedgerTransaction, bool]:
    """``post``, and whether this call wrote the transaction (False: the key's replay)."""
    if sum(amount for _, amount in moves) != 0 or kind not in KINDS:
        raise ValueError(f"a {kind} transaction's moves must sum to zero: {moves}")
    amount = sum(a for account_kind, a in moves if account_kind == BUYER)
    existing = db.session.scalar(db.select(LedgerTransaction).filter_by(
        seller_id=seller.id, idempotency_key=idempotency_key))
    if existing is not None:
        if (existing.kind, existing.unit, existing.buyer_id, existing.amount,
                existing.source_type, existing.source_ref) != (
                kind, unit, buyer.id, amount, source_type, source_ref):
            raise LedgerError("idempotency_key_reused",
                              "This idempotency key was used for another movement.", 422)
        return existing, False
    transaction = LedgerTransaction(
        seller_id=seller.id, buyer_id=buyer.id, unit=unit, kind=kind, amount=amount,
        source_type=source_type, source_ref=source_ref, reason=reason,
        idempotency_key=idempotency_key, actor=actor)
    db.session.add(transaction)
    db.session.flush()
    for account_kind, delta in moves:
        account = _account(seller.id, buyer.id if account_kind == BUYER else None, unit,
                           account_kind)
        moved = db.session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == account.id,
                   or_(LedgerAccount.kind != BUYER, LedgerAccount.balance + delta >= 0))
            .values(balance=LedgerAccount.balance + delta)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            raise LedgerError("insufficient_credit",
                              "The balance is lower than the amount.", 409)
        db.session.expire(account, ["balance"])
        db.session.add(LedgerEntry(transaction=transaction, account_id=account.id,
                                   amount=delta))
    db.session.flush()
    return transaction, True


def _check_amount(amount: object) -> int:
    if type(amount) is not int or not 0 < amount <= MAX_AMOUNT:
        raise LedgerError("invalid_amount", "The amount must be a positive integer.")
    return amount


def grant(seller: Seller, buyer: Buyer, unit: str, amount: int, *, idempotency_key: str,
          reason: str = "", actor: str = "system", source_type: str = "grant",
          source_ref: str | None = None) -> LedgerTransaction:
    """Give ``buyer`` ``amount`` of ``seller``'s ``unit`` (a seller's grant, a credit pack
    bought, a referral...); announces ``credit.granted`` (once per key)."""
    transaction, written = _post(
        seller=seller, buyer=buyer, unit=valid_unit(unit), kind="grant",
        moves=[(ISSUED, -_check_amount(amount)), (BUYER, amount)], source_type=source_type,
        source_ref=source_ref, idempotency_key=idempotency_key, reason=reason, actor=actor)
    if written:
        announce("credit.granted", transaction=transaction)
    return transaction


def debit(seller: Seller, buyer: Buyer, unit: str, amount: int, *, idempotency_key: str,
          reason: str = "", actor: str = "system") -> LedgerTransaction:
    """Take ``amount`` of ``buyer``'s ``unit`` back (never below zero); announces
    ``credit.debited`` (once per key)."""
    transaction, written = _post(
        seller=seller, buyer=buyer, unit=valid_unit(unit), kind="debit",
        moves=[(BUYER, -_check_amount(amount)), (ISSUED, amount)], source_type="debit",
        source_ref=None, idempotency_key=idempotency_key, reason=reason, actor=actor)
    if written:
        announce("credit.debited", transaction=transaction)
    return transaction


def hold(seller: Seller, buyer: Buyer, unit: str, amount: int, *, order_ref: str,
         idempotency_key: str) -> LedgerTransaction:
    """Reserve ``amount`` of ``buyer``'s balance for the order ``order_ref``."""
    return post(seller=seller, buyer=buyer, unit=unit, kind="hold",
                moves=[(BUYER, -_check_amount(amount)), (HELD, amount)],
                source_type="order", source_ref=order_ref, idempotency_key=idempotency_key,
                actor=f"buyer:{buyer.id}")


def capture(reserved: LedgerTransaction) -> LedgerTransaction:
    """Take a hold: the order is paid, the units are spent."""
    amount = -reserved.amount
    return post(seller=reserved.seller, buyer=reserved.buyer, unit=reserved.unit,
                kind="capture", moves=[(HELD, -amount), (REDEEMED, amount)],
                source_type="order", source_ref=reserved.source_ref,
                idempotency_key=f"{reserved.idempotency_key}:capture")


def release(reserved: LedgerTransaction) -> LedgerTransaction:
    """Give a hold back to the buyer: the order was never paid."""
    amount = -reserved.amount
    return post(seller=reserved.seller, buyer=reserved.buyer, unit=reserved.unit,
                kind="release", moves=[(HELD, -amount), (BUYER, amount)],
                source_type="order", source_ref=reserved.source_ref,
                idempotency_key=f"{reserved.idempotency_key}:release")


def give_back(seller: Seller, buyer: Buyer, unit: str, amount: int, *, spent: bool,
              refund_ref: str, idempotency_key: str) -> LedgerTransaction:
    """Credit ``buyer`` with ``amount`` for a refund (``refund_ref``): units they spent on
    the order come back from ``redeemed`` (``spent``); money refunded as credit instead of
    to its source is new credit, from ``issued``."""
    origin = REDEEMED if spent else ISSUED
    return post(seller=seller, buyer=buyer, unit=unit, kind="refund",
                moves=[(origin, -_check_amount(amount)), (BUYER, amount)],
                source_type="refund", source_ref=refund_ref,
                idempotency_key=idempotency_key)
