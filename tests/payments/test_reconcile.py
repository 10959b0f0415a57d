"""Reconciliation with the provider (payments/reconcile.py): what was left unfinished is
finished, what differs is repaired through the status writer, the rest is recorded."""

import pytest
import requests

from buyflow.dev.fault_proxy import PASS, RESET_AFTER, moves_money
from buyflow.extensions import db
from buyflow.models import Order, ReconciliationIssue, Refund, WebhookEvent
from buyflow.payments.reconcile import reconcile
from tests.payments.conftest import pay_saved

STRIPE_AUTH = ("sk_test_suite", "")


@pytest.fixture(autouse=True)
def fresh_provider(provider_book):
    """Only this test's objects at the provider: no other test's charge looks unknown."""
    provider_book.flush()


def the_order() -> Order:
    """The newest order (a saved card was bought with an older one)."""
    db.session.expire_all()
    return db.session.scalar(db.select(Order).order_by(Order.id.desc()))


def test_a_charge_that_succeeded_while_its_answer_was_lost_pays_the_order(
        app, saved_card, faulty_provider, short_leases, provider_book):
    data, token, card = saved_card
    db.session.execute(db.delete(WebhookEvent))
    db.session.commit()
    faulty_provider.set_rule(
        lambda method, path, body: RESET_AFTER if moves_money(method, path, body) else PASS)
    assert pay_saved(app, data, token, card).status_code == 503  # charged; an error shown
    faulty_provider.clear()
    short_leases()

    report = reconcile()

    assert report.attempts_settled == 1 and report.issues == 0
    order = the_order()
    assert order.status == "paid" and order.payments[0].provider_payment_ref
    assert sorted(db.session.scalars(db.select(WebhookEvent.type))) == [
        "order.completed", "payment.succeeded"]
    assert reconcile().attempts_settled == 0  # nothing left to do


def test_an_abandoned_bank_authentication_is_cancelled_once_the_flow_has_expired(
        app, client, product, opened_checkout, confirm_in_browser, short_leases,
        provider_book, monkeypatch):
    flow, opened = opened_checkout(product.seller, product)
    assert confirm_in_browser(opened["client_secret"], "4000002500003155",
                              authenticate=False) == "requires_action"
    short_leases()
    reconcile()  # the buyer may still be at their bank's page: left alone
    intent = the_order().payments[0].provider_payment_ref
    assert provider_book.intents(the_order().public_id)[0]["status"] == "requires_action"

    monkeypatch.setitem(app.config, "FLOW_TOKEN_MAX_AGE", 0)
    reconcile()

    order = the_order()
    assert (order.status, order.payments[0].status) == ("pending", "canceled")
    assert [i["status"] for i in provider_book.intents(order.public_id)] == ["canceled"]
    assert order.payments[0].provider_payment_ref == intent


def test_a_refund_made_at_the_provider_directly_is_recorded_once(
        client, product, buy, localstripe_url):
    assert buy(product.seller, product).json["status"] == "paid"
    intent = the_order().payments[0].provider_payment_ref
    requests.post(f"{localstripe_url}/v1/refunds", auth=STRIPE_AUTH, timeout=10,
                  data={"payment_intent": intent, "amount": 400}).raise_for_status()

    assert reconcile().refunds_recorded == 1
    assert reconcile().refunds_recorded == 0

    order = the_order()
    assert order.status == "partially_refunded"
    assert [(r.amount, r.status, r.kind) for r in order.refunds] == [(400, "succeeded", "order")]
    assert db.session.scalar(db.select(db.func.count(WebhookEvent.id)).filter_by(
        type="refund.completed")) == 1


def test_a_pending_refund_whose_answer_was_lost_is_settled(
        app, client, product, buy, faulty_provider, short_leases, provider_book):
    from tests.api.conftest import AUTH

    order_id = buy(product.seller, product).json["order"]
    faulty_provider.set_rule(
        lambda method, path, body: RESET_AFTER if path == "/v1/refunds" else PASS)
    answer = client.post(f"/api/v1/orders/{order_id}/refunds", json={"amount": 450},
                         headers=AUTH)
    assert answer.status_code == 503
    faulty_provider.clear()
    short_leases()

    report = reconcile()

    assert report.refunds_settled == 1
    refund = db.session.scalar(db.select(Refund))
    db.session.refresh(refund)
    assert refund.status == "succeeded" and refund.parts[0].provider_refund_ref
    assert provider_book.refunded(refund.parts[0].payment.provider_payment_ref) == 450


def test_a_charge_naming_a_payment_we_do_not_have_is_an_issue_recorded_once(
        app, client, product, buy, localstripe_url):
    buy(product.seller, product)  # a customer and a card to charge
    order = the_order()
    payment = order.payments[0]
    requests.post(f"{localstripe_url}/v1/payment_intents", auth=STRIPE_AUTH, timeout=10, data={
        "amount": 999, "currency": "eur", "customer": order.buyer.provider_customer_ref,
        "payment_method": payment.provider_method_ref, "confirm": "true",
        "metadata[buyflow_payment]": "pay_restored_from_backup"}).raise_for_status()

    assert reconcile().issues == 1
    assert reconcile().issues == 0
    issue = db.session.scalar(db.select(ReconciliationIssue))
    assert (issue.kind, issue.detail["payment"]) == ("unknown_charge", "pay_restored_from_backup")
    assert issue.last_seen_at >= issue.first_seen_at

    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output  # known already: nothing new for an operator
    assert "issues recorded in all (reconciliation_issues): 1" in result.output


def test_the_command_exits_non_zero_when_an_issue_is_new(app, client, product, buy,
                                                         localstripe_url):
    buy(product.seller, product)
    order = the_order()
    requests.post(f"{localstripe_url}/v1/payment_intents", auth=STRIPE_AUTH, timeout=10, data={
        "amount": 999, "currency": "eur", "customer": order.buyer.provider_customer_ref,
        "payment_method": order.payments[0].provider_method_ref, "confirm": "true",
        "metadata[buyflow_payment]": "pay_unknown"}).raise_for_status()

    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])

    assert result.exit_code == 1
    assert "issues: 1" in result.output and "attempts settled: 0" in result.output
