"""The Stripe webhook endpoint feeds the one status writer, once per event."""

import json
import time

import pytest

from buyflow.extensions import db
from buyflow.models import PaymentEvent, RefundEvent
from tests.conftest import make_refund
from tests.payments.test_stripe import signed


@pytest.fixture
def payment(make_payment):
    return make_payment(status="requires_action", provider_payment_ref="pi_42")


def event(payment, event_type="payment_intent.succeeded", event_id="evt_1"):
    return json.dumps({
        "id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
        "data": {"object": {"id": "pi_42", "object": "payment_intent",
                            "metadata": {"buyflow_payment": payment.public_id},
                            "last_payment_error": {"code": "card_declined"}}},
    }).encode()


def post(client, payload, headers):
    return client.post("/webhooks/stripe", data=payload,
                       headers={**headers, "Content-Type": "application/json"})


def test_a_verified_event_moves_the_payment_once(client, payment):
    payload = event(payment)
    first = post(client, payload, signed(payload))
    replay = post(client, payload, signed(payload))
    assert first.status_code == replay.status_code == 200
    assert first.json["applied"] is True and replay.json["applied"] is False
    db.session.refresh(payment)
    assert payment.status == "succeeded" and payment.order.status == "paid"
    assert db.session.scalar(db.select(db.func.count(PaymentEvent.id))) == 1


def test_a_failure_event_records_the_buyer_facing_code(client, payment):
    payload = event(payment, "payment_intent.payment_failed")
    post(client, payload, signed(payload))
    db.session.refresh(payment)
    assert (payment.status, payment.failure_code) == ("failed", "card_declined")


def test_a_bad_signature_is_refused_and_changes_nothing(client, payment):
    payload = event(payment)
    response = post(client, payload, signed(payload, secret="whsec_wrong"))
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_signature"
    db.session.refresh(payment)
    assert payment.status == "requires_action"
    assert db.session.scalar(db.select(db.func.count(PaymentEvent.id))) == 0


def test_events_about_unknown_payments_are_acknowledged(client, app_context):
    payload = json.dumps({"id": "evt_9", "object": "event", "type": "payment_intent.succeeded",
                          "created": int(time.time()),
                          "data": {"object": {"id": "pi_unknown", "metadata": {}}}}).encode()
    response = post(client, payload, signed(payload))
    assert response.status_code == 200 and response.json["applied"] is False


def test_unknown_provider_is_404(client, app_context):
    assert client.post("/webhooks/paypal", data=b"{}").status_code == 404


def refund_event(event_type, refund_object, event_id="evt_r1"):
    return json.dumps({
        "id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
        "data": {"object": refund_object},
    }).encode()


@pytest.fixture
def paid_payment(make_payment):
    payment = make_payment(status="succeeded", provider_payment_ref="pi_42")
    payment.order.status = "paid"
    db.session.commit()
    return payment


def test_a_refund_event_settles_our_pending_refund_once(client, paid_payment):
    # Reserved and sent, its answer lost: the provider's event says how it ended.
    refund = make_refund(paid_payment, 450)
    part = refund.parts[0]
    payload = refund_event("refund.updated", {
        "id": "re_1", "object": "refund", "status": "succeeded", "amount": 450,
        "payment_intent": "pi_42", "metadata": {"buyflow_refund": part.public_id}})

    first = post(client, payload, signed(payload))
    replay = post(client, payload, signed(payload))

    assert first.json["applied"] is True and replay.json["applied"] is False
    db.session.expire_all()
    assert (refund.status, part.provider_refund_ref) == ("succeeded", "re_1")
    assert refund.order.status == "partially_refunded"
    assert db.session.scalar(db.select(db.func.count(RefundEvent.id))) == 1


def test_a_refund_made_at_the_provider_is_recorded_from_its_event(client, paid_payment):
    payload = refund_event("charge.refunded", {
        "id": "ch_1", "object": "charge", "payment_intent": "pi_42",
        "refunds": {"object": "list", "data": [
            {"id": "re_dashboard", "object": "refund", "status": "succeeded",
             "amount": 1450, "metadata": {}}]}})

    assert post(client, payload, signed(payload)).json["applied"] is True

    db.session.expire_all()
    order = paid_payment.order
    assert [(r.parts[0].provider_refund_ref, r.amount, r.status) for r in order.refunds] == [
        ("re_dashboard", 1450, "succeeded")]
    assert order.status == "refunded"


def test_a_failed_refund_event_frees_the_reserved_amount(client, paid_payment):
    refund = make_refund(paid_payment, 1450, provider_refund_ref="re_2")
    payload = refund_event("refund.failed", {
        "id": "re_2", "object": "refund", "status": "failed", "amount": 1450,
        "payment_intent": "pi_42", "failure_reason": "expired_or_canceled_card",
        "metadata": {}})

    post(client, payload, signed(payload))

    db.session.expire_all()
    assert (refund.status, refund.parts[0].failure_code) == ("failed", "expired_or_canceled_card")
    from buyflow.payments.balance import refundable_amount
    assert refundable_amount(refund.order) == 1450
