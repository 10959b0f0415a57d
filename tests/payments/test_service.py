import pytest

from buyflow.extensions import db
from buyflow.models import PaymentEvent
from buyflow.payments.service import apply_payment_action
from buyflow.payments.states import Action


@pytest.fixture
def payment(make_payment):
    return make_payment()


def events(payment):
    return db.session.scalars(db.select(PaymentEvent).filter_by(payment_id=payment.id)).all()


def test_success_moves_payment_and_order_and_appends_an_event(payment):
    decision = apply_payment_action(payment, Action.SUCCEED, provider_event_id="evt_1")
    db.session.commit()
    assert decision.kind == "valid"
    assert payment.status == "succeeded"
    assert payment.order.status == "paid" and payment.order.paid_at is not None
    [event] = events(payment)
    assert (event.from_status, event.to_status, event.provider_event_id) == (
        "created", "succeeded", "evt_1")


def test_a_replayed_provider_event_changes_nothing(payment):
    apply_payment_action(payment, Action.REQUIRE_ACTION, provider_event_id="evt_1")
    db.session.commit()
    decision = apply_payment_action(payment, Action.SUCCEED, provider_event_id="evt_1")
    db.session.commit()
    assert decision.kind == "ignored"
    assert payment.status == "requires_action"
    assert len(events(payment)) == 1


def test_invalid_action_is_logged_and_writes_nothing(payment, caplog):
    apply_payment_action(payment, Action.SUCCEED)
    db.session.commit()
    decision = apply_payment_action(payment, Action.FAIL, failure_code="card_declined")
    db.session.commit()
    assert decision.kind == "invalid"
    assert payment.status == "succeeded" and payment.failure_code is None
    assert len(events(payment)) == 1
    assert any(r.levelname == "ERROR" and "invalid action" in r.message for r in caplog.records)


def test_failure_records_the_buyer_facing_code(payment):
    apply_payment_action(payment, Action.FAIL, failure_code="card_declined")
    db.session.commit()
    assert payment.status == "failed" and payment.failure_code == "card_declined"
    assert payment.order.status == "pending"
