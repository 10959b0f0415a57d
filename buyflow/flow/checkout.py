"""The purchase steps behind the buy flow: open an order, take a card (a new one, or a
saved one the buyer proved access to), charge it.

The charge itself is ``payments.charges``' money path (at most one attempt that may
succeed per order, each charged once); this module only maps the flow's calls onto it.
Every step can be repeated (a double click, a retry after a network error) without
writing twice or charging twice.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Insert, Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..buyers.cards import find_card, keep_paid_card
from ..buyers.identity import buyer_for_email, customer_key, record_customer
from ..errors import CodedError
from ..extensions import db
from ..models import Buyer, Order, OrderItem, Payment, Product, Seller
from ..models._base import insert_row, utcnow
from ..ledger import book
from ..payments import charges, get_provider
from ..payments import credit as credit_payments
from ..payments.base import CardDetails, SavedCard
from ..payments.states import OPEN_PAYMENT_STATUSES, OrderStatus
from ..people.bans import refusal_for_email
from .saved_cards import CardAccess
from .state import FlowState


class CheckoutError(CodedError):
    """A step the buyer cannot take; ``code`` maps to a localized message."""

    def __init__(self, code: str, http_status: int = 400):
        super().__init__(code, code, http_status)


@dataclass(frozen=True)
class PayOutcome:
    order: Order
    payment: Payment | None
    client_secret: str | None = None  # when the buyer must authenticate

    @property
    def status(self) -> str:
        if self.order.status == OrderStatus.PAID:
            return "paid"
        if self.payment is None:
            return "pending"
        return self.payment.status


def find_product(seller: Seller, product_id: str) -> Product:
    """``seller``'s active product ``product_id``; CheckoutError ``unknown_product`` (404)
    if it has none (another seller's is unknown too)."""
    product = db.session.scalar(_active_product(),
                                {"seller_id": seller.id, "public_id": product_id})
    if product is None:
        raise CheckoutError("unknown_product", 404)
    return product


def _order_for(flow: FlowState) -> Order | None:
    return db.session.scalar(_order_by_checkout_key(), {"checkout_key": flow.checkout_key})


# The flow's two lookups are built once: building a query costs more than running it.
@functools.cache
def _active_product() -> Select:
    return select(Product).where(Product.seller_id == bindparam("seller_id"),
                                 Product.public_id == bindparam("public_id"),
                                 Product.active)


@functools.cache
def _order_by_checkout_key() -> Select:
    return select(Order).where(Order.checkout_key == bindparam("checkout_key"))


def _refuse_unpayable(order: Order) -> None:
    """CheckoutError (409) unless ``order`` can still be paid: ``order_expired`` when it
    expired unpaid, ``already_paid`` when it was paid (refunded since or not)."""
    if order.status == OrderStatus.EXPIRED:
        raise CheckoutError("order_expired", 409)
    if order.status != OrderStatus.PENDING:
        raise CheckoutError("already_paid", 409)


@dataclass(frozen=True)
class _Opened:
    order: Order
    held_credit: int  # what was reserved for it when it was opened
    new_customer_ref: str | None  # the buyer's customer, made now: not recorded yet
    # A first press's new order: written by this transaction and not committed yet,
    # nobody else can see it.
    first: bool = False


def _open_order(flow: FlowState, email: str, *, customer: bool = True,
                with_attempt: bool = False, seller: Seller | None = None) -> _Opened:
    """Open (or reopen) this flow's order for ``email``, with the email's buyer. With
    ``customer``, a buyer without a customer at the provider (its first purchase that
    needs one) gets one, made under the key of the buyer's row
    (``identity.customer_key``) once the order is committed; its reference is returned
    for the caller to record (``identity.record_customer``) before anything is charged
    under it: with the card attempt's recovery point, or on its own.

    Commits; but ``with_attempt``, a new order with something to pay for which no
    customer is made is only written (``first``), for the caller to commit with its card
    attempt's row — one transaction, as no provider call comes between them. ``seller``
    is the flow's, when the caller has it (else it is read). CheckoutError
    ``email_refused`` (403) for a banned or blacklisted email, before anything is written
    (``people/bans.py``; the buyer is not told which rule)."""
    if refusal_for_email(email):
        raise CheckoutError("email_refused", 403)
    purchase = flow.what
    order = _order_for(flow)
    if order is not None:
        _refuse_unpayable(order)
    new = order is None
    if new and seller is None:
        seller = Seller.by_public_id(flow.seller)

    buyer = buyer_for_email(email)
    key = customer_key(buyer) if customer and not buyer.provider_customer_ref else None
    try:
        if new and with_attempt and key is None and purchase.total.amount > 0:
            return _Opened(_write_first_order(flow, email, buyer, seller), 0, None, True)
        if new:
            # A new order has no payments yet: known, not read.
            order = Order(seller=seller, checkout_key=flow.checkout_key,
                          amount=purchase.total.amount, currency=purchase.currency,
                          locale=flow.locale, items=purchase.order_items(),
                          seller_reference=purchase.reference,
                          passthrough=purchase.passthrough, payments=[])
            db.session.add(order)
        order.buyer = buyer
        order.buyer_email = email
        # Read before the commit expires them.
        held = credit_payments.held_credit(order)
        db.session.commit()
    except IntegrityError:  # the same flow started twice at once: use the first order
        db.session.rollback()
        return _open_order(flow, email, customer=customer, with_attempt=with_attempt,
                           seller=seller)
    customer_ref = None
    if key is not None:
        customer_ref = get_provider().ensure_customer(email, None, idempotency_key=key)
    return _Opened(order, held.amount if held else 0, customer_ref)


def _write_first_order(flow: FlowState, email: str, buyer: Buyer, seller: Seller) -> Order:
    """Write (not commit) the flow's new order for ``email``'s ``buyer``, with its items,
    as statements rather than through the session's unit of work (``insert_row``).
    IntegrityError when another transaction wrote the flow's order first (its checkout
    key is unique)."""
    purchase = flow.what
    order = insert_row(Order, seller_id=seller.id, buyer_id=buyer.id, buyer_email=email,
                       checkout_key=flow.checkout_key, status=OrderStatus.PENDING,
                       amount=purchase.total.amount, currency=purchase.currency,
                       locale=flow.locale, seller_reference=purchase.reference,
                       passthrough=purchase.passthrough)
    set_committed_value(order, "buyer", buyer)  # as found: not read again
    db.session.execute(_insert_item(), [
        {"order_id": order.id, "product": line.product, "name": line.name,
         "quantity": line.quantity, "unit_amount": line.unit_amount, "amount": line.amount}
        for line in purchase.lines])
    return order


@functools.cache
def _insert_item() -> Insert:
    # Each item linked to its catalog product, found by public id in the INSERT.
    return OrderItem.__table__.insert().values(product_id=select(Product.id).where(
        Product.public_id == bindparam("product")).scalar_subquery())


def _record_customer(opened: _Opened) -> None:
    """Record the customer ``_open_order`` made, if it made one, and commit."""
    if opened.new_customer_ref is not None:
        record_customer(opened.order.buyer_id, opened.new_customer_ref)
        db.session.commit()


def start_checkout(flow: FlowState, email: str, credit: int = 0,
                   credit_for: CardAccess | None = None,
                   keep_card_for: CardAccess | None = None,
                   seller: Seller | None = None) -> PayOutcome:
    """Open (or reopen) this flow's order for ``email``; reserve ``credit`` of the buyer's
    balance for it (``credit_for``, a card token's access to the email, proves it is
    theirs; 0 gives back what an earlier try reserved); and open the card attempt the
    buyer's browser confirms with the card they enter, for what is left to pay — none when
    the credit pays it all (the order is paid then). With ``keep_card_for`` (a card
    token's access to the email), the card is kept as one of the buyer's saved cards once
    it paid. The outcome's client secret is for the browser. ``seller`` is the flow's,
    when the caller has it.

    Only a buyer keeping the card needs a customer at the provider (the card stays with
    it); the others pay as guests, under their customer if they have one. A first
    purchase's customer is recorded with the card attempt's row
    (``charges.open_browser_attempt``): the transactions are the order's, the attempt's
    recovery point and the provider's answer. Without a customer to make, a new order is
    committed with its attempt's recovery point: two transactions."""
    keep = keep_card_for is not None
    # Credit to reserve first: the order is committed before (see _reserve_credit).
    opened = _open_order(flow, email, customer=keep, with_attempt=not credit, seller=seller)
    order, customer_ref = opened.order, opened.new_customer_ref
    if opened.first:  # nobody else sees the order yet: it has no other attempt
        for access in (credit_for, keep_card_for):
            if access is not None:
                _check_access_to_order(order, access)
        attempt = charges.open_first_browser_attempt(order, keep_card=keep)
        return PayOutcome(attempt.payment.order, attempt.payment, attempt.client_secret)
    if _credit_changes(opened, credit, credit_for):
        _record_customer(opened)  # first: an open attempt is settled under the customer
        customer_ref = None
        held = _reserve_credit(order, credit)
        order = db.session.get(Order, order.id)
        if order.status != OrderStatus.PENDING:  # the credit paid it all
            return PayOutcome(order, held)
    if keep:
        _check_access_to_order(order, keep_card_for)
    try:
        attempt = charges.open_browser_attempt(order, keep_card=keep,
                                               new_customer_ref=customer_ref)
    except charges.OrderNotPayable:
        order = db.session.get(Order, order.id)
        return PayOutcome(order, _latest_payment(order))
    except charges.ChargeInProgress:
        raise CheckoutError("payment_in_progress", 409) from None
    return PayOutcome(attempt.payment.order, attempt.payment, attempt.client_secret)


def pay_with_saved_card(flow: FlowState, access: CardAccess, card_id: str,
                        attempt: str, credit: int = 0) -> PayOutcome:
    """Charge the buyer's saved card ``card_id`` for this flow's order, opened for the
    email the card token proves.

    There is no card entry to tell a resubmission from a new attempt, so the page names
    each press of Pay with a random ``attempt`` id; the payment is recorded under the
    card entry ``saved-<attempt>`` (``Payment.provider_setup_ref`` is unique). The same
    attempt sent twice — a double submit, a retry after a lost answer — resumes the
    first; another attempt waits its turn (``payments.charges.open_attempt``), and a paid
    order is never charged again.
    """
    buyer = db.session.get(Buyer, access.buyer_id) if access.buyer_id is not None else None
    card = buyer and find_card(buyer, card_id)
    if card is None:
        raise CheckoutError("card_unknown", 404)
    if card.expired(utcnow().date()):
        raise CheckoutError("expired_card", 402)
    entry_ref = f"saved-{attempt}"
    order = _order_for(flow)
    existing = _payment_for_entry(entry_ref)
    if existing is not None:
        if order is None or existing.order_id != order.id:
            raise CheckoutError("flow_invalid")
        return _resume(existing)
    if order is not None and order.status != OrderStatus.PENDING:
        return PayOutcome(order, _latest_payment(order))

    outcome = start_checkout_for_saved_card(flow, access, credit)
    order = outcome.order
    if order.buyer_id != buyer.id:  # the email changed hands since the code was confirmed
        raise CheckoutError("card_unknown", 404)
    if order.status != OrderStatus.PENDING:  # the credit paid it all
        return outcome
    saved = SavedCard(method_ref=card.provider_method_ref, card=CardDetails(
        brand=card.brand, last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year))
    return _attempt(order, entry_ref, saved)


def start_checkout_for_saved_card(flow: FlowState, access: CardAccess,
                                  credit: int) -> PayOutcome:
    """``start_checkout`` without a card attempt for the browser: the saved card is
    charged from here."""
    opened = _open_order(flow, access.email)
    _record_customer(opened)  # charged from here under it
    order = opened.order
    if _credit_changes(opened, credit, access):
        held = _reserve_credit(order, credit)
    else:
        held = credit_payments.held_credit(order)
    return PayOutcome(db.session.get(Order, order.id), held)


def _credit_changes(opened: _Opened, credit: int, access: CardAccess | None) -> bool:
    """Whether ``credit`` differs from what was reserved for the order when it was opened
    (then ``_reserve_credit`` moves it, under the order's lock). Spending credit needs the
    card token's proof that the email is the buyer's: CheckoutError card_token_invalid
    otherwise."""
    if credit and access is None:
        raise CheckoutError("card_token_invalid", 403)
    if access is not None:
        _check_access_to_order(opened.order, access)
    return opened.held_credit != credit


def _reserve_credit(order: Order, credit: int) -> Payment | None:
    """Reserve ``credit`` of the order's buyer's balance for it (what was reserved before
    is given back first; 0 reserves nothing), and commit. A card attempt opened for the
    old rest is cancelled first (it charges what was left then); one being charged right
    now makes it wait (payment_in_progress)."""
    for attempt in [p for p in order.payments if p.provider == get_provider().name
                    and p.status in OPEN_PAYMENT_STATUSES]:
        try:
            charges.settle_attempt(attempt)
        except charges.ChargeInProgress:
            raise CheckoutError("payment_in_progress", 409) from None
    order = db.session.get(Order, order.id)
    _refuse_unpayable(order)
    try:
        held = credit_payments.hold_credit(order, order.buyer, credit)
    except book.LedgerError as exc:
        db.session.rollback()
        raise CheckoutError(exc.code, exc.http_status) from None
    except ValueError:
        db.session.rollback()
        raise CheckoutError("bad_request") from None
    db.session.commit()
    return held


def _check_access_to_order(order: Order, access: CardAccess) -> None:
    """A card token counts for an order of the email it proves, and of the same buyer."""
    if order.buyer_email != access.email or (
            access.buyer_id is not None and access.buyer_id != order.buyer_id):
        raise CheckoutError("card_token_invalid", 403)


def _payment_for_entry(entry_ref: str) -> Payment | None:
    return db.session.scalar(db.select(Payment).filter_by(provider_setup_ref=entry_ref))


def _attempt(order: Order, entry_ref: str, saved: SavedCard) -> PayOutcome:
    """Charge ``order`` with card ``saved`` for the card entry ``entry_ref``, as the
    charge money path allows: one attempt at a time, an entry charged once."""
    try:
        payment, created = charges.open_attempt(order, entry_ref, saved)
    except charges.OrderNotPayable:
        order = db.session.get(Order, order.id)
        return PayOutcome(order, _latest_payment(order))
    except charges.ChargeInProgress:
        raise CheckoutError("payment_in_progress", 409) from None
    attempt = charges.charge(payment) if created else charges.resume_charge(payment)
    return PayOutcome(attempt.payment.order, attempt.payment, attempt.client_secret)


def refresh_payment(flow: FlowState, payment_id: str) -> PayOutcome:
    """Read an attempt's status at the provider — once the buyer's browser confirmed it
    with their card, after the bank's authentication, while it is processing — and
    record it; a charge from here whose answer was lost is sent again under its own key.
    A card the buyer asked to keep is kept once it paid."""
    order = _order_for(flow)
    payment = order and db.session.scalar(
        db.select(Payment).filter_by(public_id=payment_id, order_id=order.id)
    )
    if payment is None:
        raise CheckoutError("flow_invalid")
    return _resume(payment)


def _resume(payment: Payment) -> PayOutcome:
    """The outcome of an attempt already made, driven one step further."""
    attempt = charges.resume_charge(payment)
    if attempt.outcome is not None:
        keep_paid_card(attempt.payment, attempt.outcome)
    return PayOutcome(attempt.payment.order, attempt.payment, attempt.client_secret)


def _latest_payment(order: Order) -> Payment | None:
    return order.payments[-1] if order.payments else None
