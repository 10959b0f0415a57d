"""Outbound webhooks to sellers, after the Standard Webhooks specification.

``record_event`` writes an event and its deliveries in the caller's transaction (the
outbox); once that transaction commits, each delivery is handed to the task queue.
``attempt_delivery`` claims a due delivery, posts it signed (``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``), logs the attempt
and schedules the next one with exponential backoff and jitter. The ``webhook-id`` is the
event's id, the same on every attempt, so sellers can drop duplicates. An endpoint
answering 410 Gone is disabled.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from datetime import datetime, timedelta

import requests
from flask import Flask, current_app
from huey import crontab
from sqlalchemy import event as sa_event
from sqlalchemy import update
from sqlalchemy.orm import Session, joinedload
from standardwebhooks.webhooks import Webhook

from ..events import subscribe
from ..extensions import db
from ..models import (
    Seller,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from ..models._base import utcnow
from ..tasks import enqueue_after_commit, get_tasks, register_periodic, register_task
from .payloads import (
    credit_transaction_payload,
    order_payload,
    payment_payload,
    refund_payload,
)
from .urls import UrlRefused, check_webhook_url

log = logging.getLogger(__name__)

_HTTP_SESSIONS = "buyflow.webhook_http_sessions"
# At most this many deliveries to one claim (and one task).
CLAIM_BATCH = 20

EVENT_TYPES = ("order.completed", "order.expired", "payment.succeeded", "payment.failed",
               "refund.completed", "refund.failed", "refund.requested", "credit.granted",
               "credit.debited", "refund_request.declined", "refund_request.withdrawn")


def record_event(seller: Seller, event_type: str, data: dict) -> WebhookEvent:
    """Add ``event_type`` with ``data`` for ``seller`` to the current transaction, with one
    pending delivery per enabled endpoint. Nothing is sent unless the transaction commits."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    event = WebhookEvent(seller_id=seller.id, type=event_type, data=data)
    db.session.add(event)
    for endpoint in seller.webhook_endpoints:
        if endpoint.enabled:
            event.deliveries.append(WebhookDelivery(endpoint=endpoint, next_attempt_at=utcnow()))
    return event


def signed_headers(secret: str, message_id: str, timestamp: datetime, body: str) -> dict:
    """The Standard Webhooks headers for ``body``."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": "Buyflow-Webhooks/1",
    }


def event_body(event: WebhookEvent) -> str:
    return json.dumps({"type": event.type, "timestamp": event.created_at.isoformat(),
                       "data": event.data}, separators=(",", ":"), sort_keys=True)


def attempt_delivery(delivery_id: int, now: datetime | None = None) -> str | None:
    """Attempt ``delivery_id`` alone if it is pending and due, and return its status
    afterwards; None if it was not due or another worker holds it."""
    now = now or utcnow()
    claimed = _claim(now, [delivery_id], others=0)
    return _attempt_claimed(claimed, now).get(delivery_id)


def deliver_webhooks(delivery_ids: list[int], now: datetime | None = None) -> int:
    """The worker's task: attempt ``delivery_ids`` and, in the same claim, other due
    deliveries up to ``CLAIM_BATCH`` in all, so one worker drains a backlog with one
    claim and one load per batch (and a task whose deliveries a batch already sent still
    does useful work). Returns how many were attempted."""
    now = now or utcnow()
    claimed = _claim(now, delivery_ids, others=max(0, CLAIM_BATCH - len(delivery_ids)))
    return len(_attempt_claimed(claimed, now))


def _claim(now: datetime, delivery_ids: list[int], others: int) -> list[int]:
    """Claim which of ``delivery_ids`` (plus up to ``others`` more) are pending and due,
    by pushing their due time past the batch (so no other worker takes them meanwhile),
    and commit; the claimed ids."""
    wanted = WebhookDelivery.id.in_(delivery_ids)
    if others:
        more = (db.select(WebhookDelivery.id)
                .where(WebhookDelivery.status == "pending",
                       WebhookDelivery.next_attempt_at <= now, ~wanted)
                .order_by(WebhookDelivery.next_attempt_at).limit(others))
        wanted = wanted | WebhookDelivery.id.in_(more.scalar_subquery())
    claimed = db.session.scalars(
        update(WebhookDelivery)
        .where(wanted, WebhookDelivery.status == "pending",
               WebhookDelivery.next_attempt_at <= now)
        .values(next_attempt_at=now + timedelta(seconds=_claim_seconds()))
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return claimed


def _claim_seconds() -> float:
    """How long a claim holds: the posts of a batch end while a post's timeout remains
    (the rest is handed back), so it never runs out under a live worker."""
    return current_app.config["WEBHOOK_TIMEOUT"] * 6


def _attempt_claimed(delivery_ids: list[int], now: datetime) -> dict[int, str]:
    """Attempt each claimed delivery, committing each outcome as it comes; hand back the
    ones the claim has no time left for. Their statuses by id."""
    if not delivery_ids:
        return {}
    timeout = current_app.config["WEBHOOK_TIMEOUT"]
    deadline = time.monotonic() + _claim_seconds() - 2 * timeout
    # The deliveries with their endpoints and events in one query (no lazy loads).
    deliveries = db.session.scalars(
        db.select(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
        .options(joinedload(WebhookDelivery.endpoint), joinedload(WebhookDelivery.event))
        .order_by(WebhookDelivery.id)).all()
    statuses = {}
    for position, delivery in enumerate(deliveries):
        if time.monotonic() > deadline:
            _hand_back([d.id for d in deliveries[position:]], now)
            break
        statuses[delivery.id] = _attempt(delivery, now, timeout)
        db.session.commit()
    return statuses


def _attempt(delivery: WebhookDelivery, now: datetime, timeout: float) -> str:
    """Post one claimed delivery (unless its endpoint was disabled), log the attempt and
    set what comes next; its status."""
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        delivery.status, delivery.next_attempt_at = "canceled", None
        return delivery.status
    status_code, error, duration_ms = _post(endpoint, delivery.event, now, timeout)
    delivery.attempts += 1
    # Added by its key, not appended to ``delivery.log``, which would load the whole log.
    db.session.add(WebhookAttempt(delivery_id=delivery.id, attempted_at=now,
                                  status_code=status_code, error=error,
                                  duration_ms=duration_ms))
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.next_attempt_at = "delivered", None
    elif status_code == 410:
        _disable(endpoint, f"answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC")
    else:
        _schedule_retry(delivery, now)
    return delivery.status


def _hand_back(delivery_ids: list[int], now: datetime) -> None:
    """Make claimed deliveries due again at once, for the next batch to take."""
    db.session.execute(update(WebhookDelivery)
                       .where(WebhookDelivery.id.in_(delivery_ids),
                              WebhookDelivery.status == "pending")
                       .values(next_attempt_at=now)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    _enqueue(delivery_ids)


def _http_session() -> requests.Session:
    """This thread's HTTP session for webhooks, kept alive between deliveries (a seller's
    server is posted to again and again: no new connection and TLS handshake each time)."""
    local = current_app.extensions[_HTTP_SESSIONS]
    if not hasattr(local, "session"):
        local.session = requests.Session()
    return local.session


def _post(endpoint: WebhookEndpoint, event: WebhookEvent, now: datetime,
          timeout: float) -> tuple[int | None, str | None, int]:
    body = event_body(event)
    headers = signed_headers(endpoint.secret, event.public_id, now, body)
    started = time.monotonic()
    status_code = error = None
    try:
        check_webhook_url(endpoint.url,
                          allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE_URLS"])
        response = _http_session().post(endpoint.url, data=body.encode(), headers=headers,
                                        timeout=timeout, allow_redirects=False)
        status_code = response.status_code
    except UrlRefused as exc:
        error = str(exc)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    return status_code, error and error[:300], int((time.monotonic() - started) * 1000)


def _schedule_retry(delivery: WebhookDelivery, now: datetime) -> None:
    delays = current_app.config["WEBHOOK_RETRY_DELAYS"]
    if delivery.attempts > len(delays):
        delivery.status, delivery.next_attempt_at = "failed", None
        log.warning("webhook delivery %s gave up after %s attempts", delivery.id,
                    delivery.attempts)
        return
    delay = delays[delivery.attempts - 1] * random.uniform(0.9, 1.1)
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    _enqueue([delivery.id], eta=delivery.next_attempt_at)


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    endpoint.enabled, endpoint.disabled_reason = False, reason
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
        .values(status="canceled", next_attempt_at=None)
    )


def enqueue_due_deliveries(now: datetime | None = None, limit: int = 500) -> int:
    """Hand every pending delivery that is due to the queue (recovers deliveries whose
    task was lost, in a crash say). Returns how many."""
    ids = db.session.scalars(
        db.select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending",
               WebhookDelivery.next_attempt_at <= (now or utcnow()))
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)
    ).all()
    _enqueue(ids)
    return len(ids)


def _enqueue(delivery_ids, eta: datetime | None = None) -> None:
    """Queue the deliveries, ``CLAIM_BATCH`` to a task."""
    delivery_ids = list(delivery_ids)
    for first in range(0, len(delivery_ids), CLAIM_BATCH):
        get_tasks().enqueue("deliver_webhooks", delivery_ids[first:first + CLAIM_BATCH],
                            eta=eta)


def _remember_new_deliveries(session: Session, _flush_context) -> None:
    new = [obj.id for obj in session.new if isinstance(obj, WebhookDelivery)]
    if new:
        enqueue_after_commit(session, _enqueue, new)


# What the money core announces, told to sellers (the outbox, in the same transaction).

def _order_paid(order) -> None:
    record_event(order.seller, "order.completed", {"order": order_payload(order)})


def _order_expired(order) -> None:
    record_event(order.seller, "order.expired", {"order": order_payload(order)})


def _payment_succeeded(order, payment) -> None:
    record_event(order.seller, "payment.succeeded",
                 {"order": order_payload(order), "payment": payment_payload(payment)})


def _payment_failed(order, payment) -> None:
    record_event(order.seller, "payment.failed",
                 {"order": order_payload(order), "payment": payment_payload(payment)})


def _refund_succeeded(order, refund) -> None:
    record_event(order.seller, "refund.completed",
                 {"refund": refund_payload(refund), "order": order_payload(order)})


def _refund_failed(order, refund) -> None:
    record_event(order.seller, "refund.failed",
                 {"refund": refund_payload(refund), "order": order_payload(order)})


def _credit_granted(transaction) -> None:
    record_event(transaction.seller, "credit.granted",
                 {"credit": credit_transaction_payload(transaction)})


def _credit_debited(transaction) -> None:
    record_event(transaction.seller, "credit.debited",
                 {"credit": credit_transaction_payload(transaction)})


_SUBSCRIPTIONS = {
    "order.paid": _order_paid, "order.expired": _order_expired,
    "payment.succeeded": _payment_succeeded, "payment.failed": _payment_failed,
    "refund.succeeded": _refund_succeeded, "refund.failed": _refund_failed,
    "credit.granted": _credit_granted, "credit.debited": _credit_debited,
}


def init_app(app: Flask) -> None:
    """Tell sellers what the money core announces; deliver through the task queue once
    the transaction that wrote a delivery commits, and sweep up lost ones every minute."""
    for event, handler in _SUBSCRIPTIONS.items():
        subscribe(app, event, handler)
    app.extensions[_HTTP_SESSIONS] = threading.local()
    register_task(app, "deliver_webhooks", deliver_webhooks)
    # Tasks queued one delivery each, before deliveries were batched, still run.
    register_task(app, "deliver_webhook", attempt_delivery)
    register_periodic(app, "sweep_webhooks", crontab(minute="*"), enqueue_due_deliveries)
    if not sa_event.contains(Session, "after_flush", _remember_new_deliveries):
        sa_event.listen(Session, "after_flush", _remember_new_deliveries)
