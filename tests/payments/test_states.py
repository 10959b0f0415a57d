import pytest

from buyflow.payments.states import (
    PAYMENT_IGNORED,
    PAYMENT_TRANSITIONS,
    Action,
    PaymentStatus,
    decide_order,
    decide_payment,
    decide_refund,
)


@pytest.mark.parametrize("status, action, to_status", [
    ("created", "succeed", "succeeded"),
    ("created", "require_action", "requires_action"),
    ("created", "fail", "failed"),
    ("requires_action", "succeed", "succeeded"),
    ("requires_action", "fail", "failed"),
    ("requires_action", "cancel", "canceled"),
])
def test_valid_payment_transitions(status, action, to_status):
    decision = decide_payment(status, action)
    assert decision.kind == "valid" and decision.to_status == to_status


@pytest.mark.parametrize("status, action", [
    ("succeeded", "succeed"), ("failed", "fail"), ("requires_action", "require_action"),
])
def test_duplicates_are_ignored_and_change_nothing(status, action):
    decision = decide_payment(status, action)
    assert decision.kind == "ignored" and decision.to_status == status


@pytest.mark.parametrize("status, action", [
    ("succeeded", "fail"), ("succeeded", "cancel"), ("succeeded", "require_action"),
    ("canceled", "require_action"),
])
def test_impossible_actions_are_invalid(status, action):
    decision = decide_payment(status, action)
    assert decision.kind == "invalid" and decision.to_status == status


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_a_charge_given_up_here_that_succeeds_at_the_provider_is_a_success(status):
    # The provider is the truth about money: an answer lost, then the charge found.
    assert decide_payment(status, "succeed").to_status == "succeeded"


@pytest.mark.parametrize("status, action, kind, to_status", [
    ("pending", "succeed", "valid", "succeeded"),
    ("pending", "fail", "valid", "failed"),
    ("succeeded", "succeed", "ignored", "succeeded"),
    ("failed", "fail", "ignored", "failed"),
    ("succeeded", "fail", "invalid", "succeeded"),
    ("failed", "succeed", "invalid", "failed"),
])
def test_refund_transitions(status, action, kind, to_status):
    decision = decide_refund(status, action)
    assert (decision.kind, decision.to_status) == (kind, to_status)


def test_every_status_and_action_has_exactly_one_kind():
    for status in PaymentStatus:
        for action in Action:
            key = (status, action)
            assert not (key in PAYMENT_TRANSITIONS and key in PAYMENT_IGNORED)


def test_orders_are_paid_once():
    assert decide_order("pending", "pay").to_status == "paid"
    assert decide_order("paid", "pay").kind == "invalid"
