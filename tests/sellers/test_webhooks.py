"""Outbound webhooks: written with the change, delivered signed, retried, logged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from buyflow.extensions import db
from buyflow.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from buyflow.models._base import utcnow
from buyflow.sellers.accounts import add_webhook_endpoint
from buyflow.sellers import webhooks
from buyflow.sellers.webhooks import (
    attempt_delivery,
    deliver_webhooks,
    enqueue_due_deliveries,
    record_event,
)
from buyflow.tasks import get_tasks
from tests.conftest import at_once


def only_delivery() -> WebhookDelivery:
    return db.session.scalars(db.select(WebhookDelivery)).one()


def test_a_paid_order_is_told_to_the_seller_signed(product, buy, endpoint_secret, receiver,
                                                   run_queue):
    answer = buy(product.seller, product)
    run_queue()
    payloads = {}
    for headers, body in receiver.requests:
        payload = Webhook(endpoint_secret).verify(body, headers)
        payloads[payload["type"]] = payload
        assert headers["webhook-id"].startswith("msg_")
    assert sorted(payloads) == ["order.completed", "payment.succeeded"]
    order = payloads["order.completed"]["data"]["order"]
    assert (order["id"], order["status"], order["amount_due"]) == (
        answer.json["order"], "paid", 0)
    payment = payloads["payment.succeeded"]["data"]["payment"]
    assert (payment["source"], payment["amount"], payment["card"]["last4"]) == (
        "card", 1450, "4242")
    deliveries = db.session.scalars(db.select(WebhookDelivery)).all()
    assert [(d.status, d.attempts) for d in deliveries] == [("delivered", 1)] * 2
    assert [a.status_code for d in deliveries for a in d.log] == [200, 200]


def test_a_declined_payment_is_told_as_payment_failed(product, buy, endpoint_secret, receiver,
                                                      run_queue):
    buy(product.seller, product, "4000000000000341")
    run_queue()
    [(headers, body)] = receiver.requests
    payload = Webhook(endpoint_secret).verify(body, headers)
    assert payload["type"] == "payment.failed"
    assert payload["data"]["payment"]["failure_code"] == "card_declined"
    assert payload["data"]["order"]["status"] == "pending"


def failing_event(seller):
    record_event(seller, "order.completed", {"order": {"id": "ord_x"}})
    db.session.commit()
    return only_delivery()


def test_a_failing_endpoint_is_retried_with_backoff_and_the_same_id(
        app, seller, endpoint_secret, receiver, run_queue):
    receiver.answers = [500, 503, 200]
    delivery = failing_event(seller)
    run_queue()
    first_due = only_delivery().next_attempt_at
    assert only_delivery().status == "pending"
    first_attempt = only_delivery().log[0].attempted_at
    assert timedelta(seconds=4.5) <= first_due - first_attempt <= timedelta(seconds=5.5)

    assert attempt_delivery(delivery.id, now=first_due - timedelta(seconds=1)) is None
    assert len(receiver.requests) == 1  # not due yet: nothing sent

    assert attempt_delivery(delivery.id, now=first_due) == "pending"
    second_due = only_delivery().next_attempt_at
    assert timedelta(seconds=270) <= second_due - first_due <= timedelta(seconds=330)  # 300±10%
    assert attempt_delivery(delivery.id, now=second_due) == "delivered"

    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1
    for headers, body in receiver.requests:  # each attempt signed for its own time
        sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
        expected = Webhook(endpoint_secret).sign(headers["webhook-id"], sent_at, body.decode())
        assert headers["webhook-signature"] == expected
    assert [a.status_code for a in only_delivery().log] == [500, 503, 200]


def test_delivery_gives_up_after_the_last_retry(app, seller, endpoint_secret, receiver,
                                                run_queue, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_DELAYS", [1, 1])
    receiver.answers = [500, 500, 500, 500]
    delivery = failing_event(seller)
    now = utcnow()
    statuses = [attempt_delivery(delivery.id, now=now + timedelta(seconds=10 * i))
                for i in range(4)]
    assert statuses == ["pending", "pending", "failed", None]
    assert len(receiver.requests) == 3


def test_410_gone_disables_the_endpoint_and_cancels_what_waits(seller, endpoint_secret,
                                                               receiver):
    receiver.answers = [410]
    record_event(seller, "order.completed", {"order": {"id": "ord_1"}})
    record_event(seller, "order.completed", {"order": {"id": "ord_2"}})
    db.session.commit()
    first, second = db.session.scalars(db.select(WebhookDelivery).order_by("id")).all()
    assert attempt_delivery(first.id) == "canceled"
    db.session.expire_all()
    assert second.status == "canceled"
    endpoint = seller.webhook_endpoints[0]
    assert endpoint.enabled is False and "410" in endpoint.disabled_reason
    record_event(seller, "order.completed", {"order": {"id": "ord_3"}})
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 2


def test_an_unreachable_endpoint_is_logged_and_retried(app, seller, app_context):
    add_webhook_endpoint(seller, "http://127.0.0.1:9/nothing-listens")
    delivery = failing_event(seller)
    assert attempt_delivery(delivery.id) == "pending"
    [attempt] = only_delivery().log
    assert attempt.status_code is None and "ConnectionError" in attempt.error


def test_private_addresses_are_refused_at_delivery_too(app, seller, endpoint_secret, receiver,
                                                       monkeypatch):
    delivery = failing_event(seller)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    assert attempt_delivery(delivery.id) == "pending"
    assert receiver.requests == []
    assert "private" in only_delivery().log[0].error


def test_nothing_is_sent_when_the_change_is_rolled_back(seller, endpoint_secret, receiver,
                                                        run_queue):
    record_event(seller, "order.completed", {"order": {"id": "ord_x"}})
    db.session.flush()
    db.session.rollback()
    run_queue()
    assert receiver.requests == []
    assert db.session.scalar(db.select(db.func.count(WebhookEvent.id))) == 0


def test_the_sweep_hands_due_deliveries_to_the_queue(seller, endpoint_secret, receiver,
                                                     run_queue):
    failing_event(seller)
    get_tasks().huey.flush()  # as if the task had been lost in a crash
    assert enqueue_due_deliveries() == 1
    run_queue()
    assert only_delivery().status == "delivered"
    assert db.session.scalar(db.select(db.func.count(WebhookAttempt.id))) == 1


def test_unknown_event_types_are_refused(seller):
    with pytest.raises(ValueError):
        record_event(seller, "order.exploded", {})


def test_the_body_is_the_standard_webhooks_envelope(seller, endpoint_secret, receiver,
                                                    run_queue):
    failing_event(seller)
    run_queue()
    body = json.loads(receiver.requests[0][1])
    assert set(body) == {"type", "timestamp", "data"}


def backlog(seller, count: int) -> list[int]:
    """``count`` events, one transaction each (one queued task each); delivery ids."""
    for i in range(count):
        record_event(seller, "order.completed", {"order": {"id": f"ord_{i}"}})
        db.session.commit()
    return db.session.scalars(db.select(WebhookDelivery.id).order_by("id")).all()


def test_a_burst_of_commits_queues_one_task_that_delivers_them_all(app, seller,
                                                                  endpoint_secret, receiver):
    ids = backlog(seller, 5)
    huey = get_tasks().huey
    assert huey.pending_count() == 1  # five commits woke the worker's task once
    huey.execute(huey.dequeue())  # ...and it delivers all five
    assert huey.pending_count() == 0
    assert len(receiver.requests) == 5
    assert len({headers["webhook-id"] for headers, _ in receiver.requests}) == 5
    db.session.expire_all()
    assert [d.status for d in db.session.scalars(
        db.select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))] == ["delivered"] * 5


def test_a_backlog_beyond_one_batch_is_drained_batch_after_batch(app, seller, endpoint_secret,
                                                                receiver, run_queue,
                                                                monkeypatch):
    monkeypatch.setattr(webhooks, "CLAIM_BATCH", 2)
    backlog(seller, 5)
    run_queue()  # a full batch wakes the task again for the next one
    assert sorted(json.loads(body)["data"]["order"]["id"] for _, body in receiver.requests) \
        == [f"ord_{i}" for i in range(5)]
    assert [d.status for d in db.session.scalars(db.select(WebhookDelivery))] \
        == ["delivered"] * 5
    assert get_tasks().huey.pending_count() == 0


def test_410_in_a_batch_cancels_what_waits_for_the_endpoint_unposted(seller, endpoint_secret,
                                                                     receiver):
    receiver.answers = [200, 500, 410]
    backlog(seller, 4)
    get_tasks().huey.flush()
    assert deliver_webhooks() == 4
    assert len(receiver.requests) == 3  # the fourth is not posted after the 410
    deliveries = db.session.scalars(db.select(WebhookDelivery).order_by("id")).all()
    assert [(d.status, d.attempts) for d in deliveries] == [
        ("delivered", 1), ("canceled", 1), ("canceled", 1), ("canceled", 0)]
    assert [a.status_code for d in deliveries for a in d.log] == [200, 500, 410]
    assert seller.webhook_endpoints[0].enabled is False


class WorkerDied(Exception):
    pass


def test_a_worker_dying_mid_batch_leaves_the_batch_to_be_posted_again_after_its_claim(
        app, seller, endpoint_secret, receiver, monkeypatch):
    ids = backlog(seller, 3)
    get_tasks().huey.flush()
    post = webhooks._post

    def post_then_die(delivery, now, timeout):
        if receiver.requests:
            raise WorkerDied
        return post(delivery, now, timeout)

    monkeypatch.setattr(webhooks, "_post", post_then_die)
    started = utcnow()
    with pytest.raises(WorkerDied):
        deliver_webhooks(ids, now=started)
    monkeypatch.undo()
    db.session.rollback()
    assert deliver_webhooks(now=started + timedelta(seconds=1)) == 0  # still claimed
    assert len(receiver.requests) == 1
    claim_ended = started + timedelta(seconds=webhooks._claim_seconds())
    assert deliver_webhooks(now=claim_ended) == 3
    first, *others = [headers["webhook-id"] for headers, _ in receiver.requests]
    assert len(receiver.requests) == 4 and first == others[0]  # at least once, same id
    assert [d.status for d in db.session.scalars(db.select(WebhookDelivery))] \
        == ["delivered"] * 3


def test_workers_draining_at_once_post_each_delivery_once(app, seller, endpoint_secret,
                                                          receiver):
    ids = backlog(seller, 30)

    def worker(first_ids):
        with app.app_context():
            return deliver_webhooks(first_ids)

    attempted = at_once(worker, [ids[i:i + 5] for i in range(0, 30, 5)], workers=6)
    assert sum(attempted) == 30
    assert len(receiver.requests) == 30
    assert sorted(json.loads(body)["data"]["order"]["id"] for _, body in receiver.requests) \
        == sorted(f"ord_{i}" for i in range(30))
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(WebhookAttempt.id))) == 30


def test_a_batch_without_time_left_hands_its_deliveries_back(app, seller, endpoint_secret,
                                                             receiver, monkeypatch, run_queue):
    ids = backlog(seller, 3)
    get_tasks().huey.flush()
    # A claim that only covers the safety margin leaves no time to post anything.
    monkeypatch.setattr(webhooks, "_claim_seconds", lambda: 2 * app.config["WEBHOOK_TIMEOUT"])
    assert deliver_webhooks(ids) == 0
    assert receiver.requests == []
    assert get_tasks().huey.pending_count() == 1  # handed back, queued again, due now
    monkeypatch.undo()
    run_queue()
    assert len(receiver.requests) == 3


def test_deliveries_go_through_the_proxy_the_environment_names(app, seller, receiver,
                                                               app_context, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{receiver.server.server_port}")
    add_webhook_endpoint(seller, "http://shop-behind-a-proxy.example/hooks")
    delivery = failing_event(seller)
    assert attempt_delivery(delivery.id) == "delivered"  # the receiver is the proxy
    assert len(receiver.requests) == 1
