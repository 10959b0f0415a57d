"""The purchase steps behind the buy flow: open an order, take a card (a new one, or a
saved one the buyer proved access to), charge it.

Provider calls happen outside of open database transactions where possible, and every
step can be repeated (a double click, a retry after a network error) without writing
twice or charging twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ..buyers.cards import find_card, save_card
from ..buyers.identity import buyer_for_email
from ..extensions import db
from ..models import Buyer, Order, Payment, Product, Seller
from ..models._base import utcnow
from ..payments import get_provider
from ..payments.base import CardDetails, CardSetup, ChargeRequest, SavedCard
from ..payments.service import apply_payment_action
from ..payments.states import Action, OrderStatus, PaymentStatus
from ..payments.stripe import PAYMENT_METADATA_KEY
from .saved_cards import CardAccess
from .state import FlowState

_IN_PROGRESS = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION)


class CheckoutError(Exception):
    """A step the buyer cannot take; ``code`` maps to a localized message."""

    def __init__(self, code: str, http_status: int = 400):
        super().__init__(code)
        self.code = code
        self.http_status = http_status


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


def find_seller_and_product(seller_id: str, product_id: str) -> tuple[Seller, Product]:
    """The seller and its active product; CheckoutError if either is unknown, or the
    product belongs to another seller."""
    seller = db.session.scalar(db.select(Seller).filter_by(public_id=seller_id))
    if seller is None:
        raise CheckoutError("unknown_seller", 404)
    product = db.session.scalar(
        db.select(Product).filter_by(public_id=product_id, seller_id=seller.id, active=True)
    )
    if product is None:
        raise CheckoutError("unknown_product", 404)
    return seller, product


def _order_for(flow: FlowState) -> Order | None:
    return db.session.scalar(db.select(Order).filter_by(checkout_key=flow.checkout_key))


def _open_order(flow: FlowState, email: str) -> Order:
    """Open (or reopen) this flow's order for ``email``, with the email's buyer and the
    buyer's customer at the provider (made on the first purchase)."""
    seller = db.session.scalar(db.select(Seller).filter_by(public_id=flow.seller))
    purchase = flow.what
    order = _order_for(flow)
    if order is not None and order.status != OrderStatus.PENDING:
        raise CheckoutError("already_paid", 409)

    buyer = buyer_for_email(email)
    if order is None:
        order = Order(seller=seller, checkout_key=flow.checkout_key,
                      amount=purchase.total.amount, currency=purchase.currency,
                      locale=flow.locale, buyer_email=email, items=purchase.order_items(),
                      seller_reference=purchase.reference, passthrough=purchase.passthrough)
        db.session.add(order)
    order.buyer = buyer
    order.buyer_email = email
    try:
        db.session.commit()
    except IntegrityError:  # the same flow started twice at once: use the first order
        db.session.rollback()
        return _open_order(flow, email)

    if not buyer.provider_customer_ref:
        buyer.provider_customer_ref = get_provider().ensure_customer(email, None)
        db.session.commit()
    return order


def start_checkout(flow: FlowState, email: str) -> tuple[Order, CardSetup]:
    """Open (or reopen) this flow's order for ``email`` and a card-entry session."""
    order = _open_order(flow, email)
    setup = get_provider().start_card_setup(
        order.buyer.provider_customer_ref,
        idempotency_key=f"buyflow-setup-{order.public_id}-{uuid.uuid4().hex}",
        metadata={"buyflow_order": order.public_id},
    )
    return order, setup


def pay_with_card(flow: FlowState, setup_ref: str,
                  save_for: CardAccess | None = None) -> PayOutcome:
    """Charge the card the buyer just entered (``setup_ref``) for this flow's order; with
    ``save_for`` (a card token's access to the order's email), also keep the card as one
    of the buyer's saved cards.

    Repeating the call with the same card entry returns the first attempt's outcome;
    an order already paid is never charged again.
    """
    order = _order_for(flow)
    if order is None:
        raise CheckoutError("flow_invalid")
    if save_for is not None:
        _check_access_to_order(order, save_for)
    existing = _payment_for_entry(setup_ref)
    if existing is not None:
        if existing.order_id != order.id:
            raise CheckoutError("flow_invalid")
        return _resume(existing)
    if order.status == OrderStatus.PAID:
        return PayOutcome(order, _latest_payment(order))
    _settle_unfinished_payments(order)

    saved = get_provider().finish_card_setup(setup_ref, order.buyer.provider_customer_ref)
    if save_for is not None:
        # The card is attached to the buyer's customer above whether or not it is kept;
        # keeping it only adds it to the buyer's cards (and the audit log).
        save_card(order.buyer, saved)
    return _attempt(order, setup_ref, saved)


def pay_with_saved_card(flow: FlowState, access: CardAccess, card_id: str,
                        attempt: str) -> PayOutcome:
    """Charge the buyer's saved card ``card_id`` for this flow's order, opened for the
    email the card token proves.

    There is no card entry to tell a resubmission from a new attempt, so the page names
    each press of Pay with a random ``attempt`` id; the payment is recorded under the
    card entry ``saved-<attempt>`` (``Payment.provider_setup_ref`` is unique). The same
    attempt sent twice — a double submit, a retry after a lost answer — returns the first
    one's outcome; another attempt is refused while one is still unfinished
    (``_settle_unfinished_payments``), and a paid order is never charged again.
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
    if order is not None and order.status == OrderStatus.PAID:
        return PayOutcome(order, _latest_payment(order))

    order = _open_order(flow, access.email)
    if order.buyer_id != buyer.id:  # the email changed hands since the code was confirmed
        raise CheckoutError("card_unknown", 404)
    _settle_unfinished_payments(order)
    saved = SavedCard(method_ref=card.provider_method_ref, card=CardDetails(
        brand=card.brand, last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year))
    return _attempt(order, entry_ref, saved)


def _check_access_to_order(order: Order, access: CardAccess) -> None:
    """A card token counts for an order of the email it proves, and of the same buyer."""
    if order.buyer_email != access.email or (
            access.buyer_id is not None and access.buyer_id != order.buyer_id):
        raise CheckoutError("card_token_invalid", 403)


def _payment_for_entry(entry_ref: str) -> Payment | None:
    return db.session.scalar(db.select(Payment).filter_by(provider_setup_ref=entry_ref))


def _attempt(order: Order, entry_ref: str, saved: SavedCard) -> PayOutcome:
    """Record a payment of ``order`` with card ``saved`` for the card entry ``entry_ref``
    and charge it; the same entry recorded twice at once resumes the first."""
    payment = Payment(
        order=order, provider=get_provider().name, amount=order.amount,
        currency=order.currency, provider_setup_ref=entry_ref,
        provider_method_ref=saved.method_ref, card_brand=saved.card.brand,
        card_last4=saved.card.last4, card_exp_month=saved.card.exp_month,
        card_exp_year=saved.card.exp_year,
    )
    db.session.add(payment)
    try:
        db.session.commit()
    except IntegrityError:  # the same card entry submitted twice at once
        db.session.rollback()
        return _resume(_payment_for_entry(entry_ref))
    return _charge(payment)


def refresh_payment(flow: FlowState, payment_id: str) -> PayOutcome:
    """Read an unfinished charge's status at the provider (after the buyer's 3-D Secure
    step, or while it is processing) and record it."""
    order = _order_for(flow)
    payment = order and db.session.scalar(
        db.select(Payment).filter_by(public_id=payment_id, order_id=order.id)
    )
    if payment is None:
        raise CheckoutError("flow_invalid")
    if payment.status in _IN_PROGRESS and payment.provider_payment_ref:
        _record(payment, get_provider().charge_status(payment.provider_payment_ref))
    return PayOutcome(payment.order, payment)


def _charge(payment: Payment) -> PayOutcome:
    order = payment.order
    outcome = get_provider().charge(ChargeRequest(
        amount=order.total,
        customer_ref=order.buyer.provider_customer_ref,
        method_ref=payment.provider_method_ref,
        idempotency_key=payment.idempotency_key,
        metadata={PAYMENT_METADATA_KEY: payment.public_id, "buyflow_order": order.public_id},
    ))
    _record(payment, outcome)
    return PayOutcome(order, payment, outcome.client_secret)


def _record(payment: Payment, outcome) -> None:
    if outcome.payment_ref and not payment.provider_payment_ref:
        payment.provider_payment_ref = outcome.payment_ref
    if outcome.action is not None:
        apply_payment_action(payment, outcome.action, failure_code=outcome.failure_code)
    db.session.commit()


def _resume(payment: Payment) -> PayOutcome:
    """The outcome of an attempt already made; a charge that never reached the provider
    (a crash, a lost connection) is retried under the same idempotency key."""
    if payment.status == PaymentStatus.CREATED and not payment.provider_payment_ref:
        return _charge(payment)
    if payment.status == PaymentStatus.REQUIRES_ACTION:
        outcome = get_provider().charge_status(payment.provider_payment_ref)
        return PayOutcome(payment.order, payment, outcome.client_secret)
    return PayOutcome(payment.order, payment)


def _settle_unfinished_payments(order: Order) -> None:
    """Before a new card is charged, no earlier attempt of this order may still be able
    to succeed: read each one's status and cancel what is still waiting for the buyer."""
    provider = get_provider()
    for payment in order.payments:
        if payment.status not in _IN_PROGRESS:
            continue
        if payment.provider_payment_ref:
            outcome = provider.charge_status(payment.provider_payment_ref)
            if outcome.action == Action.REQUIRE_ACTION:
                outcome = provider.cancel_charge(payment.provider_payment_ref)
            _record(payment, outcome)
        else:
            # Being charged right now by another request (or lost in a crash, when a
            # retry with the same card entry resumes it): never charge a second card.
            raise CheckoutError("payment_in_progress", 409)
    if order.status == OrderStatus.PAID:
        raise CheckoutError("already_paid", 409)


def _latest_payment(order: Order) -> Payment | None:
    return order.payments[-1] if order.payments else None
