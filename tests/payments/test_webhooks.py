"""The Stripe webhook endpoint feeds the one status writer, once per event."""

import json
import time

import pytest

from buyflow.extensions import db
from buyflow.models import PaymentEvent
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
