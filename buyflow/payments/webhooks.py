"""The provider's webhook endpoint: verified events feed the one status writer."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import IntegrityError

from ..buyers.cards import keep_paid_card
from ..extensions import csrf, db
from ..models import Payment
from . import get_provider
from .base import ChargeOutcome, PaymentError, ProviderRefundEvent, WebhookSignatureError
from .reconcile import apply_provider_refund
from .service import apply_payment_action, record_charge_outcome
from .states import Action

log = logging.getLogger(__name__)

bp = Blueprint("provider_webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)  # authenticated by the provider's signature


def _payment_for(event) -> Payment | None:
    if event.payment_public_id:
        payment = db.session.scalar(db.select(Payment).filter_by(public_id=event.payment_public_id))
        if payment is not None:
            return payment
    if event.payment_ref:
        query = db.select(Payment).filter_by(provider_payment_ref=event.payment_ref)
        return db.session.scalar(query)
    return None


@bp.post("/<provider_name>")
def receive(provider_name: str):
    """Apply a provider event once. Unknown and ignored events are acknowledged (so the
    provider stops resending them); a bad signature is refused."""
    provider = get_provider()
    if provider_name != provider.name:
        return jsonify(error={"code": "unknown_provider", "message": "Unknown provider."}), 404
    try:
        event = provider.parse_webhook(request.get_data(), request.headers)
    except WebhookSignatureError:
        log.warning("refused a %s webhook with a bad signature", provider_name)
        return jsonify(error={"code": "bad_signature",
                              "message": "The webhook signature does not verify."}), 400
    if event is None:
        return jsonify(received=True, applied=False)
    if isinstance(event, ProviderRefundEvent):
        return _receive_refunds(event)
    payment = _payment_for(event)
    if payment is None:
        log.info("%s event %s is about no payment of ours", provider_name, event.event_id)
        return jsonify(received=True, applied=False)
    outcome = _full_answer(provider, payment, event)
    try:
        if outcome is not None:
            decision = record_charge_outcome(payment, outcome, provider_event_id=event.event_id)
        else:
            decision = apply_payment_action(payment, event.action,
                                            provider_event_id=event.event_id,
                                            failure_code=event.failure_code,
                                            payment_ref=event.payment_ref)
        db.session.commit()
    except IntegrityError:  # the same event delivered twice at the same moment
        db.session.rollback()
        return jsonify(received=True, applied=False)
    if outcome is not None:  # the buyer's page may have been closed before it kept the card
        keep_paid_card(payment, outcome)
    return jsonify(received=True, applied=bool(decision and decision.changes))


def _full_answer(provider, payment: Payment, event) -> ChargeOutcome | None:
    """For a success of a card entered in the buyer's browser whose card we do not know
    yet (the buyer's page may never ask: closed once paid), the provider's full answer,
    which names the card; None otherwise, or when the provider does not answer (the
    event's action is applied then, the card left unknown)."""
    ref = event.payment_ref or payment.provider_payment_ref
    if (event.action != Action.SUCCEED or payment.provider != provider.name
            or payment.provider_method_ref or not ref):
        return None
    try:
        return provider.charge_status(ref)
    except PaymentError:
        log.warning("could not read %s %s for its card", provider.name, ref)
        return None


def _receive_refunds(event: ProviderRefundEvent):
    """Apply each refund the event reports (ours, or one made at the provider directly on
    one of our payments) through the status writer, once per event."""
    applied = False
    try:
        for outcome in event.refunds:
            # One event may report several refunds: each gets its own event row.
            decision = apply_provider_refund(
                outcome, provider_event_id=f"{event.event_id}/{outcome.reference}")
            applied = applied or bool(decision and decision.changes)
        db.session.commit()
    except IntegrityError:  # the same event delivered twice at the same moment
        db.session.rollback()
        return jsonify(received=True, applied=False)
    return jsonify(received=True, applied=applied)
