"""Refunds through the API under lost answers, crashes and storms: never refunded twice,
never more than was paid, nothing stuck, no 5xx but for an unreachable provider."""

import threading

import pytest

from buyflow.dev.fault_proxy import PASS, RESET_AFTER, RESET_BEFORE, moves_money
from buyflow.extensions import db
from buyflow.models import IdempotencyRecord, Order, Refund
from buyflow.payments.reconcile import reconcile
from tests.api.conftest import AUTH
from tests.conftest import at_once


def refund(client, order_id, body, key=None):
    headers = {**AUTH, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/api/v1/orders/{order_id}/refunds", json=body, headers=headers)


def every_refund(fault):
    return lambda method, path, body: (fault if moves_money(method, path, body)
                                       and path == "/v1/refunds" else PASS)


def intent_of(order_id: str) -> str:
    db.session.expire_all()
    order = db.session.scalar(db.select(Order).filter_by(public_id=order_id))
    return order.payments[0].provider_payment_ref


def test_a_retry_after_a_lost_answer_resumes_the_same_refund(
        client, paid_order, faulty_provider, provider_book):
    faulty_provider.set_rule(every_refund(RESET_AFTER))  # refunded, every answer lost
    lost = refund(client, paid_order, {"amount": 500}, key="r-1")
    assert lost.status_code == 503 and lost.json["error"]["code"] == "provider_unavailable"
    faulty_provider.clear()

    again = refund(client, paid_order, {"amount": 500}, key="r-1")

    assert again.status_code == 201 and again.json["status"] == "succeeded"
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 1
    assert provider_book.refunded(intent_of(paid_order)) == 500
    replay = refund(client, paid_order, {"amount": 500}, key="r-1")
    assert replay.json == again.json and replay.headers["Idempotent-Replayed"] == "true"


def test_a_refund_that_never_reached_the_provider_is_made_by_the_retry(
        client, paid_order, faulty_provider, provider_book, short_leases):
    faulty_provider.set_rule(every_refund(RESET_BEFORE))
    assert refund(client, paid_order, {"amount": 500}, key="r-2").status_code == 503
    faulty_provider.clear()
    short_leases()
    reconcile()  # found nowhere: released, the amount free again

    again = refund(client, paid_order, {"amount": 500}, key="r-2")

    assert again.status_code == 201 and again.json["status"] == "succeeded"
    statuses = db.session.scalars(db.select(Refund.status).order_by(Refund.id)).all()
    assert statuses == ["failed", "succeeded"]
    assert provider_book.refunded(intent_of(paid_order)) == 500


def test_without_a_retry_reconciliation_finishes_a_refund_whose_answer_was_lost(
        client, paid_order, faulty_provider, provider_book, short_leases):
    faulty_provider.set_rule(every_refund(RESET_AFTER))
    assert refund(client, paid_order, {}).status_code == 503
    order = client.get(f"/api/v1/orders/{paid_order}", headers=AUTH).json
    assert [r["status"] for r in order["refunds"]] == ["pending"]  # reserved meanwhile
    assert refund(client, paid_order, {"amount": 1}).status_code == 422
    faulty_provider.clear()
    short_leases()

    report = reconcile()

    assert report.refunds_settled == 1
    order = client.get(f"/api/v1/orders/{paid_order}", headers=AUTH).json
    assert (order["status"], order["refunded_amount"]) == ("refunded", 1450)
    assert provider_book.refunded(intent_of(paid_order)) == 1450


def test_a_key_held_by_a_request_that_died_is_taken_over_after_its_lease(
        app, client, paid_order, faulty_provider, provider_book, short_leases):
    hold = faulty_provider.hold("before")  # the first request stops before the provider
    first = threading.Thread(target=lambda: refund(app.test_client(), paid_order,
                                                   {"amount": 300}, key="r-3"))
    first.start()
    assert hold.reached.wait(10)
    busy = refund(client, paid_order, {"amount": 300}, key="r-3")
    assert busy.status_code == 409 and busy.json["error"]["code"] == "idempotency_in_progress"

    short_leases()  # ... and its process is gone: its leases run out
    again = refund(client, paid_order, {"amount": 300}, key="r-3")
    hold.release(RESET_BEFORE)  # what the dead request sent never arrives
    first.join(20)

    assert again.status_code == 201 and again.json["status"] == "succeeded"
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 1
    assert provider_book.refunded(intent_of(paid_order)) == 300
    record = db.session.scalar(db.select(IdempotencyRecord))
    assert record.status == "done" and record.response_status == 201


@pytest.mark.parametrize("keys", ["none", "each its own", "one for all"])
def test_a_storm_of_refunds_never_refunds_more_than_was_paid(app, paid_order, provider_book,
                                                             keys):
    def one(n):
        key = {"none": None, "each its own": f"storm-{n}", "one for all": "storm"}[keys]
        return refund(app.test_client(), paid_order, {"amount": 870}, key=key)  # 60 %

    answers = at_once(one, range(200), workers=32)

    codes = [a.status_code for a in answers]
    if keys == "one for all":  # the first answer, replayed, or "still in progress"
        assert set(codes) <= {201, 409} and 201 in codes
        assert len({a.json["id"] for a in answers if a.status_code == 201}) == 1
    else:
        assert codes.count(201) == 1 and set(codes) == {201, 422}, sorted(set(codes))
    db.session.expire_all()
    refunds = db.session.scalars(db.select(Refund)).all()
    assert [(r.amount, r.status) for r in refunds] == [(870, "succeeded")]
    assert provider_book.refunded(intent_of(paid_order)) == 870
