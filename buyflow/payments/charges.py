"""Charging a card for an order, at most once per order, exactly once per attempt.

What a card attempt charges is what is left to pay: the order's total less what other
payments took or reserve (credit held for it). A new card is charged by the buyer's
browser: one attempt opened at the provider (``open_browser_attempt``), confirmed there
with the card as it is entered, the bank's authentication asked at most once, then read
here (``resume_charge``). A saved card is charged from here (``open_attempt``, ``charge``).

A charge is a money path of atomic phases, each its own transaction under the order's
lock (``locks.locked``), with the provider called between them:

1. ``open_attempt``: the order must still be unpaid and have no other card attempt that
   may succeed (``OPEN_PAYMENT_STATUSES``; a unique index backs this). One that is under way
   answers ChargeInProgress; one that was left behind (its answer lost, its process
   gone, its buyer away at the bank's page) is settled first — read at the provider and
   cancelled there if it could still succeed. Then the payment row is written with the
   lease on its provider call (``provider_call_until``) and committed: the recovery point.
2. The charge, sent with the idempotency key derived from the payment's row.
3. Its answer, recorded through the status writer, and the lease released.

``resume_charge`` drives an attempt that exists (the same card entry submitted again,
the page asking after it, recovery): it reads the charge's status when the provider has
it, and otherwise re-sends the charge under the same key, once the lease is over — the
provider answers the first charge's outcome if it made one, so nothing is charged
twice. Should a second charge ever succeed anyway, the status writer refunds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from ..buyers.identity import record_customer
from ..extensions import db
from ..locks import locked
from ..models import Order, Payment
from ..models._base import insert_row
from . import get_provider
from ..money import Money
from .balance import amount_to_charge
from .base import (
    PAYMENT_METADATA_KEY,
    BrowserChargeRequest,
    ChargeOutcome,
    ChargeRequest,
    PaymentError,
    SavedCard,
)
from .refunds import in_flight, lease_end
from .service import apply_payment_action, record_charge_outcome
from .states import OPEN_PAYMENT_STATUSES, Action, OrderStatus, PaymentStatus

# How far before a payment's row the provider's charge may have been created (clocks).
_LOOKUP_MARGIN = timedelta(minutes=10)


class ChargeInProgress(Exception):
    """Another attempt to pay this order is under way: nothing was charged now."""


class OrderNotPayable(Exception):
    """The order is paid (or no longer pending): nothing was charged."""


@dataclass(frozen=True)
class Attempt:
    """A payment attempt; the secret the buyer's browser needs to enter the card or
    authenticate, when it does; and what the provider said of it, when it was asked."""

    payment: Payment
    client_secret: str | None = None
    outcome: ChargeOutcome | None = None


def open_attempt(order: Order, entry_ref: str, card: SavedCard) -> tuple[Payment, bool]:
    """Phase 1: the payment for card entry ``entry_ref`` of ``order``, and whether this
    call created it (then it holds the lease on the charge: call ``charge``). An attempt
    with that entry already made is returned as it is (resume it). Commits.
    OrderNotPayable, ChargeInProgress, or PaymentError from settling a left-behind attempt."""
    for _ in range(3):
        order = locked(Order, order.id)
        existing = _payment_for_entry(entry_ref)
        if existing is not None:
            db.session.commit()
            return existing, False
        provider = get_provider().name
        if order.status != OrderStatus.PENDING or amount_to_charge(order) == 0:
            db.session.commit()
            raise OrderNotPayable(order.status)
        others = [p for p in order.payments
                  if p.provider == provider and p.status in OPEN_PAYMENT_STATUSES]
        if not others:
            payment = Payment(
                order=order, provider=provider, amount=amount_to_charge(order),
                currency=order.currency, provider_setup_ref=entry_ref,
                provider_method_ref=card.method_ref, card_brand=card.card.brand,
                card_last4=card.card.last4, card_exp_month=card.card.exp_month,
                card_exp_year=card.card.exp_year, provider_call_until=lease_end(),
            )
            db.session.add(payment)
            db.session.commit()
            return payment, True
        db.session.commit()
        for other in others:
            settle_attempt(other)
    raise ChargeInProgress()


def open_browser_attempt(order: Order, keep_card: bool = False,
                         new_customer_ref: str | None = None) -> Attempt:
    """The order's card attempt for the buyer's browser to confirm with the card they
    enter: the open one when it still waits for a card, for what is left to pay (a second
    press of Pay, a retry after a declined card's error in the page), or when the buyer is
    at their bank's page; else a new one. A new one is phase 1 as in ``open_attempt`` (the
    row with its lease, committed), then opened at the provider under the payment's own
    key, which moves no money: the browser's confirmation does, once. Commits.
    ``new_customer_ref``, a customer just made at the provider for the order's buyer, is
    recorded on the buyer (``identity.record_customer``) in phase 1's transaction, so the
    recovery point names the customer the PaymentIntent is opened under.
    OrderNotPayable, ChargeInProgress, or PaymentError from the provider."""
    for _ in range(3):
        order = locked(Order, order.id)
        if new_customer_ref is not None:
            record_customer(order.buyer_id, new_customer_ref)
            new_customer_ref = None
        provider = get_provider()
        due = amount_to_charge(order)
        if order.status != OrderStatus.PENDING or due == 0:
            db.session.commit()
            raise OrderNotPayable(order.status)
        others = [p for p in order.payments
                  if p.provider == provider.name and p.status in OPEN_PAYMENT_STATUSES]
        if not others:
            return _open_locked_at_provider(order, due, keep_card)
        db.session.commit()
        for other in others:
            reused = _still_for_the_browser(other, due, keep_card)
            if reused is not None:
                return reused
            settle_attempt(other)
    raise ChargeInProgress()


def open_first_browser_attempt(order: Order, keep_card: bool = False) -> Attempt:
    """``open_browser_attempt`` for a new ``order`` the current transaction wrote and has
    not committed (a first press of Pay), all of it due and more than 0: nobody else can
    see it, so it has no other attempt to reuse or settle and needs no lock. Its payment
    row, with the lease, is committed with it — one transaction, the recovery point —,
    then opened at the provider as there. Commits. PaymentError from the provider."""
    payment = insert_row(Payment, order_id=order.id, provider=get_provider().name,
                         amount=order.amount, currency=order.currency,
                         provider_call_until=lease_end())
    return _open_at_provider(payment, keep_card)


def _open_locked_at_provider(order: Order, amount: int, keep_card: bool) -> Attempt:
    """A browser attempt of ``order`` (its lock held) for ``amount``, its payment written
    with its lease (appended to the order's loaded payments), then ``_open_at_provider``."""
    payment = Payment(order=order, provider=get_provider().name, amount=amount,
                      currency=order.currency, provider_call_until=lease_end())
    db.session.add(payment)
    db.session.flush()
    return _open_at_provider(payment, keep_card)


def _open_at_provider(payment: Payment, keep_card: bool) -> Attempt:
    """Phase 1's end for the browser attempt ``payment``, written with its lease: committed
    (the recovery point); then opened at the provider under the payment's key, and its
    answer recorded."""
    # The rows stay as written: _settle reads them afresh under the lock.
    _commit_keeping_rows()
    provider = get_provider()
    request = _browser_request(payment, keep_card)
    return _call_and_settle(payment.id, payment.order_id,
                            lambda: provider.start_browser_charge(request))


def _commit_keeping_rows() -> None:
    """Commit without expiring what the session holds: the rows this transaction read
    under the order's lock and wrote are, as loaded, what it committed, so nothing is
    read again for the answer. Every phase still reads its rows afresh under the lock
    before deciding anything (``locks.locked``)."""
    session = db.session()
    expiring = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring


def _browser_request(payment: Payment, keep_card: bool) -> BrowserChargeRequest:
    return BrowserChargeRequest(
        amount=Money(payment.amount, payment.currency),
        customer_ref=payment.order.buyer.provider_customer_ref,
        idempotency_key=payment.idempotency_key, keep_card=keep_card,
        metadata=_metadata(payment),
    )


def _metadata(payment: Payment) -> dict:
    """What the provider keeps on the charge to find it again (see ``find_charge``)."""
    return {PAYMENT_METADATA_KEY: payment.public_id, "buyflow_order": payment.order.public_id}


def _call_and_settle(payment_id: int, order_id: int, call) -> Attempt:
    """The provider's answer to ``call`` recorded for the attempt (of order ``order_id``).
    PaymentError when the provider cannot be reached: the lease is released first, the
    outcome left unknown."""
    try:
        outcome = call()
    except PaymentError:
        _release(payment_id, order_id)
        raise
    return _settle(payment_id, outcome)


def _still_for_the_browser(payment: Payment, amount: int, keep_card: bool) -> Attempt | None:
    """``payment`` as it stands, when the browser can go on with it: waiting for a card
    for ``amount`` (kept or not as asked), or for the buyer at their bank. None when it
    cannot (to be settled). ChargeInProgress while a call about it is under way."""
    if in_flight(payment):
        raise ChargeInProgress()
    provider = get_provider()
    if payment.provider_payment_ref:
        outcome = provider.charge_status(payment.provider_payment_ref)
    elif payment.provider_setup_ref is None:  # opened for a browser, its answer lost
        outcome = _find_charge(payment)
        if outcome is None:
            return None
    else:
        return None
    waiting = (outcome.awaiting_card and payment.amount == amount
               and outcome.keeps_card == keep_card)
    if waiting or outcome.action == Action.REQUIRE_ACTION:
        return _settle(payment.id, outcome)
    return None


def charge(payment: Payment) -> Attempt:
    """Phases 2 and 3 for an attempt whose lease this caller holds: charge, record,
    release. Commits. PaymentError when the provider cannot be reached: the attempt stays
    open, its outcome unknown, for ``resume_charge`` or recovery."""
    order = payment.order
    request = ChargeRequest(
        amount=Money(payment.amount, payment.currency),
        customer_ref=order.buyer.provider_customer_ref,
        method_ref=payment.provider_method_ref,
        idempotency_key=payment.idempotency_key,
        metadata=_metadata(payment),
    )
    return _call_and_settle(payment.id, order.id, lambda: get_provider().charge(request))


def resume_charge(payment: Payment) -> Attempt:
    """Drive an existing attempt one step further (see the module docstring). Commits.
    An attempt under way is returned as it stands; one already ended too, but for a
    success, read once more at the provider (``_ended_success``)."""
    payment_id = payment.id
    claim = _claim(payment_id)
    if claim == _ENDED:
        return _ended_success(payment_id)
    if claim != _CLAIMED:
        return Attempt(db.session.get(Payment, payment_id))
    payment = db.session.get(Payment, payment_id)
    if not payment.provider_payment_ref:
        return charge(payment)
    ref = payment.provider_payment_ref
    return _call_and_settle(payment_id, payment.order_id,
                            lambda: get_provider().charge_status(ref))


def _ended_success(payment_id: int) -> Attempt:
    """An attempt that ended before this call: a success recorded from the provider's
    webhook, before the buyer's page asked, carries none of what only the provider's full
    answer says (the card, whether the buyer keeps it), so it is read once more and
    recorded (the status stays; the card is filled in). Anything else as it stands."""
    payment = db.session.get(Payment, payment_id)
    if payment.status != PaymentStatus.SUCCEEDED or not payment.provider_payment_ref:
        return Attempt(payment)
    try:
        outcome = get_provider().charge_status(payment.provider_payment_ref)
    except PaymentError:  # the success stands; the card stays unknown
        return Attempt(payment)
    return _settle(payment_id, outcome)


def settle_attempt(payment: Payment) -> None:
    """Make sure ``payment``, an open attempt nobody is driving, can no longer succeed
    unseen: read it at the provider (looked up by our id when its answer was lost), record
    what it says, and cancel it there while it still waits for the buyer. Found nowhere,
    it never reached the provider and is cancelled here. Holds the attempt's lease
    meanwhile, so nobody drives it at the same time. Commits. ChargeInProgress while
    another call about it may be under way, or the provider still processes it."""
    payment_id = payment.id
    claim = _claim(payment_id)
    if claim == _BUSY:
        raise ChargeInProgress()
    if claim == _ENDED:
        return
    payment = db.session.get(Payment, payment_id)
    provider = get_provider()
    try:
        if payment.provider_payment_ref:
            outcome = provider.charge_status(payment.provider_payment_ref)
        else:
            outcome = _find_charge(payment)
        if outcome is not None and (outcome.action == Action.REQUIRE_ACTION
                                    or outcome.awaiting_card):
            outcome = provider.cancel_charge(outcome.payment_ref)
    except PaymentError:
        _release(payment_id, payment.order_id)
        raise
    locked(Order, payment.order_id)
    payment = locked(Payment, payment_id)
    payment.provider_call_until = None
    if outcome is None:
        apply_payment_action(payment, Action.CANCEL, failure_code="not_at_provider",
                             detail={"reason": "its charge never reached the provider"})
    else:
        record_charge_outcome(payment, outcome)
    db.session.commit()
    if payment.status in OPEN_PAYMENT_STATUSES:  # still processing at the provider
        raise ChargeInProgress()


def _find_charge(payment: Payment) -> ChargeOutcome | None:
    """The provider's charge for ``payment``, whose answer was lost, looked up by our id
    without acting. A saved card's is among the buyer's customer's charges (the card is
    the customer's), made when the attempt was written or later (re-sent under its key).
    A browser's may be under no customer (only a buyer keeping the card has one): it is
    among the account's charges of the one call that opened it, within its lease of the
    attempt's row being written. Either way ``_LOOKUP_MARGIN`` around for the clocks."""
    since = payment.created_at - _LOOKUP_MARGIN
    if payment.provider_setup_ref is not None:
        return get_provider().find_charge(payment.order.buyer.provider_customer_ref,
                                          payment.public_id, since)
    until = (payment.created_at + _LOOKUP_MARGIN
             + timedelta(seconds=current_app.config["MONEY_CALL_LEASE_SECONDS"]))
    return get_provider().find_charge(None, payment.public_id, since, until)


_CLAIMED, _ENDED, _BUSY = "claimed", "ended", "busy"


def settle_attempts_task(order_id: int) -> int:
    """The task queue's entry, once an order is paid another way: settle its card attempts
    still open (cancelled at the provider while they wait for the buyer); how many. One
    under way is left to reconciliation."""
    open_ids = db.session.scalars(db.select(Payment.id).where(
        Payment.order_id == order_id, Payment.status.in_(OPEN_PAYMENT_STATUSES))).all()
    settled = 0
    for payment_id in open_ids:
        try:
            settle_attempt(db.session.get(Payment, payment_id))
            settled += 1
        except (ChargeInProgress, PaymentError):
            db.session.rollback()
    return settled


def _claim(payment_id: int) -> str:
    """Take the lease on an open attempt's provider calls and commit it ("claimed"), or
    say why not: the attempt ended ("ended"), another call holds the lease ("busy")."""
    locked(Order, db.session.get(Payment, payment_id).order_id)
    payment = locked(Payment, payment_id)
    if payment.status not in OPEN_PAYMENT_STATUSES:
        state = _ENDED
    elif in_flight(payment):
        state = _BUSY
    else:
        payment.provider_call_until = lease_end()
        state = _CLAIMED
    db.session.commit()
    return state


def _payment_for_entry(entry_ref: str) -> Payment | None:
    return db.session.scalar(db.select(Payment).filter_by(provider_setup_ref=entry_ref))


def _release(payment_id: int, order_id: int) -> None:
    locked(Order, order_id)
    payment = locked(Payment, payment_id)
    payment.provider_call_until = None
    db.session.commit()


def _settle(payment_id: int, outcome: ChargeOutcome) -> Attempt:
    """Record ``outcome`` for the attempt and release its lease, in one transaction under
    the order's lock then the row's (``record_charge_outcome`` takes them). Commits."""
    payment = db.session.get(Payment, payment_id)
    record_charge_outcome(payment, outcome)  # locks and reads it afresh
    payment.provider_call_until = None
    _commit_keeping_rows()  # the answer's rows, as just written under the lock
    return Attempt(payment, outcome.client_secret, outcome)
