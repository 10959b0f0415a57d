"""Outbound webhooks to sellers, after the Standard Webhooks specification.

``record_event`` writes an event and its deliveries in the caller's transaction (the
outbox); once that transaction commits, the worker's task is woken (a burst of commits
queues it once). A run claims a batch of due deliveries, reads what posting them takes
as plain values, posts each signed (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256>``), then writes the batch's outcomes in one
commit: the attempts logged, the deliveries delivered, or due again with exponential
backoff and jitter. The ``webhook-id`` is the event's id, the same on every attempt, so
sellers can drop duplicates. An endpoint answering 410 Gone is disabled.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from flask import Flask, current_app
from huey import crontab
from sqlalchemy import event as sa_event
from sqlalchemy import bindparam, false, insert, true, update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from ..errors import CodedError
from ..events import subscribe
from ..extensions import db
from ..metrics import count_webhook_delivery
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


def record_event(seller: Seller, event_type: str, data: dict, *, order=None) -> WebhookEvent:
    """Add ``event_type`` with ``data`` for ``seller`` (about ``order``, when it is about
    one) to the current transaction, with one pending delivery per enabled endpoint.
    Nothing is sent unless the transaction commits."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    event = WebhookEvent(seller_id=seller.id, type=event_type, data=data,
                         order_id=order.id if order is not None else None)
    db.session.add(event)
    for endpoint in seller.webhook_endpoints:
        if endpoint.enabled:
            event.deliveries.append(WebhookDelivery(endpoint=endpoint, next_attempt_at=utcnow()))
    return event


def signed_headers(secret: str, message_id: str, timestamp: datetime, body: str,
                   previous_secret: str | None = None) -> dict:
    """The Standard Webhooks headers for ``body``: signed with ``secret``, and with
    ``previous_secret`` too while an endpoint's rotation lets it (the header then holds
    both signatures, space-separated, and either verifies)."""
    signatures = [Webhook(s).sign(message_id, timestamp, body)
                  for s in (secret, previous_secret) if s]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": "Buyflow-Webhooks/1",
    }


def event_body(event: WebhookEvent) -> str:
    """The JSON body ``event`` is posted with (the Standard Webhooks envelope)."""
    return _envelope(event.type, event.created_at, event.data)


def _envelope(event_type: str, created_at: datetime, data: dict) -> str:
    return json.dumps({"type": event_type, "timestamp": created_at.isoformat(),
                       "data": data}, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class _Claimed:
    """A claimed delivery and all that posting it takes, read as plain values with the
    claim (no ORM objects: committing one outcome reloads nothing)."""

    id: int
    attempts: int
    endpoint_id: int
    endpoint_enabled: bool
    url: str
    secret: str
    previous_secret: str | None  # still signing, during a rotation
    message_id: str
    body: str


@dataclass(frozen=True)
class _Outcome:
    """What one delivery of a batch came to: its new status, attempts and due time, and
    the log row of its attempt (None when nothing was posted)."""

    delivery_id: int
    status: str
    attempts: int
    next_attempt_at: datetime | None
    logged: dict | None = None


def attempt_delivery(delivery_id: int, now: datetime | None = None) -> str | None:
    """Attempt ``delivery_id`` alone if it is pending and due, and return its status
    afterwards; None if it was not due or another worker holds it."""
    now = now or utcnow()
    claimed = _claim(now, [delivery_id], others=0)
    return _attempt_claimed(claimed, now).get(delivery_id)


def deliver_webhooks(delivery_ids: Sequence[int] = (), now: datetime | None = None) -> int:
    """The worker's task: attempt ``delivery_ids`` (none when the task was woken) and,
    in the same claim, the due deliveries that waited longest, up to ``CLAIM_BATCH`` in
    all, so one worker drains a backlog with one claim and one load per batch. A full
    batch may leave more due: the task is woken again first, for the next batch (another
    worker takes it meanwhile). Returns how many were attempted."""
    now = now or utcnow()
    claimed = _claim(now, delivery_ids, others=max(0, CLAIM_BATCH - len(delivery_ids)))
    if len(claimed) >= CLAIM_BATCH:
        _wake()
    return len(_attempt_claimed(claimed, now))


def _claim(now: datetime, delivery_ids: Sequence[int], others: int) -> list[_Claimed]:
    """Claim which of ``delivery_ids`` (plus up to ``others`` more) are pending and due,
    by pushing their due time past the batch (so no other worker takes them meanwhile),
    read what posting them takes, and commit; the claimed deliveries, by id."""
    named = WebhookDelivery.id.in_(delivery_ids)
    wanted = named if delivery_ids else false()
    if others:
        more = (db.select(WebhookDelivery.id)
                .where(WebhookDelivery.status == "pending",
                       WebhookDelivery.next_attempt_at <= now,
                       ~named if delivery_ids else true())
                .order_by(WebhookDelivery.next_attempt_at).limit(others))
        wanted = wanted | WebhookDelivery.id.in_(more.scalar_subquery())
    claimed_ids = db.session.scalars(
        update(WebhookDelivery)
        .where(wanted, WebhookDelivery.status == "pending",
               WebhookDelivery.next_attempt_at <= now)
        .values(next_attempt_at=now + timedelta(seconds=_claim_seconds()))
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    claimed = _read_claimed(claimed_ids) if claimed_ids else []
    db.session.commit()
    return claimed


def _read_claimed(delivery_ids: list[int]) -> list[_Claimed]:
    """The deliveries ``delivery_ids`` with their endpoints' URLs and secrets (decrypted)
    and their events' ids and bodies, in one query, by id."""
    rows = db.session.execute(
        db.select(WebhookDelivery.id, WebhookDelivery.attempts, WebhookDelivery.endpoint_id,
                  WebhookEndpoint.enabled, WebhookEndpoint.url, WebhookEndpoint.secret,
                  WebhookEvent.public_id, WebhookEvent.type, WebhookEvent.created_at,
                  WebhookEvent.data, WebhookEndpoint.previous_secret,
                  WebhookEndpoint.previous_secret_until)
        .join(WebhookEndpoint, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .join(WebhookEvent, WebhookDelivery.event_id == WebhookEvent.id)
        .where(WebhookDelivery.id.in_(delivery_ids))
        .order_by(WebhookDelivery.id))
    now = utcnow()
    return [_Claimed(id=row[0], attempts=row[1], endpoint_id=row[2], endpoint_enabled=row[3],
                     url=row[4], secret=row[5], message_id=row[6],
                     previous_secret=row[10] if row[11] and row[11] > now else None,
                     body=_envelope(row[7], row[8], row[9]))
            for row in rows]


def _claim_seconds() -> float:
    """How long a claim holds: the posts of a batch end while a post's timeout remains
    (the rest is handed back) and their outcomes are written then, so it never runs out
    under a live worker."""
    return current_app.config["WEBHOOK_TIMEOUT"] * 6


def _attempt_claimed(claimed: list[_Claimed], now: datetime) -> dict[int, str]:
    """Post each claimed delivery while the claim has time left, then write every outcome
    (and hand back the deliveries not reached) in one commit, well inside the claim. A
    worker dying before that commit leaves the whole batch claimed: it is due again when
    the claim ends and posted again, with the same ``webhook-id`` (at least once).
    Their statuses by id."""
    if not claimed:
        return {}
    timeout = current_app.config["WEBHOOK_TIMEOUT"]
    deadline = time.monotonic() + _claim_seconds() - 2 * timeout
    outcomes: list[_Outcome] = []
    disabled: dict[int, str] = {}  # endpoints that answered 410 in this batch: why
    handed_back: list[int] = []
    for position, delivery in enumerate(claimed):
        if time.monotonic() > deadline:
            handed_back = [d.id for d in claimed[position:]]
            break
        if not delivery.endpoint_enabled or delivery.endpoint_id in disabled:
            outcomes.append(_Outcome(delivery.id, "canceled", delivery.attempts, None))
            continue
        outcome = _attempt(delivery, now, timeout)
        if outcome.logged["status_code"] == 410:
            disabled[delivery.endpoint_id] = f"answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC"
        outcomes.append(outcome)
    _write_outcomes(outcomes, disabled, handed_back, now)
    db.session.commit()
    for outcome in outcomes:
        count_webhook_delivery(current_app, outcome.status)
        if outcome.status == "pending":
            _enqueue([outcome.delivery_id], eta=outcome.next_attempt_at)
    if handed_back:
        _wake()
    return {outcome.delivery_id: outcome.status for outcome in outcomes}


def _attempt(delivery: _Claimed, now: datetime, timeout: float) -> _Outcome:
    """Post one claimed delivery; what it came to (delivered, 410 — canceled with its
    endpoint —, or the next retry, or failed after the last one)."""
    status_code, error, duration_ms = _post(delivery, now, timeout)
    attempts = delivery.attempts + 1
    logged = {"delivery_id": delivery.id, "attempted_at": now, "status_code": status_code,
              "error": error, "duration_ms": duration_ms}
    if status_code is not None and 200 <= status_code < 300:
        return _Outcome(delivery.id, "delivered", attempts, None, logged)
    if status_code == 410:
        return _Outcome(delivery.id, "canceled", attempts, None, logged)
    delays = current_app.config["WEBHOOK_RETRY_DELAYS"]
    if attempts > len(delays):
        log.warning("webhook delivery %s gave up after %s attempts", delivery.id, attempts)
        return _Outcome(delivery.id, "failed", attempts, None, logged)
    delay = delays[attempts - 1] * random.uniform(0.9, 1.1)
    return _Outcome(delivery.id, "pending", attempts, now + timedelta(seconds=delay), logged)


_deliveries = WebhookDelivery.__table__


def _write_outcomes(outcomes: list[_Outcome], disabled: dict[int, str],
                    handed_back: list[int], now: datetime) -> None:
    """Add a batch's outcomes to the current transaction with Core statements: the log
    rows, each delivery's status, the endpoints to disable (their waiting deliveries
    canceled, after the statuses so a retry just set is canceled too) and the deliveries
    handed back, due again at once."""
    logged = [outcome.logged for outcome in outcomes if outcome.logged is not None]
    if logged:
        db.session.execute(insert(WebhookAttempt.__table__), logged)
    if outcomes:
        db.session.execute(
            update(_deliveries).where(_deliveries.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"),
                    next_attempt_at=bindparam("b_next",
                                              type_=_deliveries.c.next_attempt_at.type)),
            [{"b_id": o.delivery_id, "b_status": o.status, "b_attempts": o.attempts,
              "b_next": o.next_attempt_at} for o in outcomes])
    for endpoint_id, reason in disabled.items():
        _disable(endpoint_id, reason)
    if handed_back:
        db.session.execute(update(_deliveries)
                           .where(_deliveries.c.id.in_(handed_back),
                                  _deliveries.c.status == "pending")
                           .values(next_attempt_at=now))


def _http_session(url: str) -> tuple[requests.Session, dict]:
    """This thread's HTTP session for webhooks, kept alive between deliveries (a seller's
    server is posted to again and again: no new connection and TLS handshake each time),
    and what the environment says for posts to ``url``'s origin (``HTTPS_PROXY`` and
    ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``), read once per origin and thread rather than
    at every post as requests would (a good part of a post's time)."""
    local = current_app.extensions[_HTTP_SESSIONS]
    if not hasattr(local, "session"):
        local.session = requests.Session()
        local.session.trust_env = False  # the environment is read here, not per post
        local.settings = {}
    origin = urlsplit(url)[:2]
    if origin not in local.settings:
        with requests.Session() as reading:
            local.settings[origin] = reading.merge_environment_settings(
                url, {}, None, None, None)
    return local.session, local.settings[origin]


def _post(delivery: _Claimed, now: datetime,
          timeout: float) -> tuple[int | None, str | None, int]:
    """Sign ``delivery``'s body for ``now`` and post it, if its URL is still allowed; the
    answer's status code (None when there was none), the error and the duration."""
    headers = signed_headers(delivery.secret, delivery.message_id, now, delivery.body,
                             delivery.previous_secret)
    started = time.monotonic()
    status_code = error = None
    try:
        check_webhook_url(delivery.url,
                          allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE_URLS"])
        session, settings = _http_session(delivery.url)
        response = session.post(delivery.url, data=delivery.body.encode(), headers=headers,
                                timeout=timeout, allow_redirects=False, **settings)
        status_code = response.status_code
    except UrlRefused as exc:
        error = str(exc)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    return status_code, error and error[:300], int((time.monotonic() - started) * 1000)


def _disable(endpoint_id: int, reason: str) -> None:
    """Turn the endpoint off and cancel its waiting deliveries."""
    db.session.execute(update(WebhookEndpoint.__table__)
                       .where(WebhookEndpoint.__table__.c.id == endpoint_id)
                       .values(enabled=False, disabled_reason=reason))
    db.session.execute(update(_deliveries)
                       .where(_deliveries.c.endpoint_id == endpoint_id,
                              _deliveries.c.status == "pending")
                       .values(status="canceled", next_attempt_at=None))


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


def _wake(_delivery_ids=()) -> None:
    """Have a worker take the due deliveries (those a commit just made among them); a
    burst of commits queues the task once."""
    get_tasks().wake("deliver_webhooks")


def _enqueue(delivery_ids, eta: datetime | None = None) -> None:
    """Queue the deliveries, ``CLAIM_BATCH`` to a task (the sweep, and each retry at its
    due time: these runs also clear a wake-up lost with its run)."""
    delivery_ids = list(delivery_ids)
    for first in range(0, len(delivery_ids), CLAIM_BATCH):
        get_tasks().enqueue("deliver_webhooks", delivery_ids[first:first + CLAIM_BATCH],
                            eta=eta)


def _remember_new_deliveries(session: Session, _flush_context) -> None:
    new = [obj.id for obj in session.new if isinstance(obj, WebhookDelivery)]
    if new:
        enqueue_after_commit(session, _wake, new)


# What the money core announces, told to sellers (the outbox, in the same transaction).

def _order_paid(order) -> None:
    record_event(order.seller, "order.completed", {"order": order_payload(order)}, order=order)


def _order_expired(order) -> None:
    record_event(order.seller, "order.expired", {"order": order_payload(order)}, order=order)


def _payment_succeeded(order, payment) -> None:
    record_event(order.seller, "payment.succeeded",
                 {"order": order_payload(order), "payment": payment_payload(payment)},
                 order=order)


def _payment_failed(order, payment) -> None:
    record_event(order.seller, "payment.failed",
                 {"order": order_payload(order), "payment": payment_payload(payment)},
                 order=order)


def _refund_succeeded(order, refund) -> None:
    record_event(order.seller, "refund.completed",
                 {"refund": refund_payload(refund), "order": order_payload(order)},
                 order=order)


def _refund_failed(order, refund) -> None:
    record_event(order.seller, "refund.failed",
                 {"refund": refund_payload(refund), "order": order_payload(order)},
                 order=order)


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
    register_task(app, "deliver_webhooks", deliver_webhooks, wakeable=True)
    # Tasks queued one delivery each, before deliveries were batched, still run.
    register_task(app, "deliver_webhook", attempt_delivery)
    register_periodic(app, "sweep_webhooks", crontab(minute="*"), enqueue_due_deliveries)
    if not sa_event.contains(Session, "after_flush", _remember_new_deliveries):
        sa_event.listen(Session, "after_flush", _remember_new_deliveries)


# What a seller's team does from the console (these flush; the view commits).

TEST_EVENT = "webhook.test"


class DeliveryRefused(CodedError):
    """A delivery the team asked for cannot be made: ``endpoint_disabled`` (enable the
    endpoint first) or ``delivery_pending`` (it is on its way already)."""

    http_status = 409


def replay_delivery(delivery: WebhookDelivery, now: datetime | None = None) -> None:
    """Send ``delivery``'s event to its endpoint again, with the same ``webhook-id`` (so
    a receiver that keeps ids drops it as a duplicate): the delivery is due at once, and
    retried as a new one would be if it fails (its earlier attempts stay in the log). Only
    a delivery that ended (delivered, failed, canceled) is replayed — one under way is
    left to its claim and retries, so no worker posts it twice at once —, and only to an
    enabled endpoint. The worker is woken when the caller commits."""
    if not delivery.endpoint.enabled:
        raise DeliveryRefused("endpoint_disabled", "the endpoint is disabled")
    replayed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.status != "pending")
        .values(status="pending", attempts=0, next_attempt_at=now or utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not replayed:
        raise DeliveryRefused("delivery_pending", "the delivery is on its way already")
    db.session.refresh(delivery)
    enqueue_after_commit(db.session, _wake, [delivery.id])


def send_test_event(endpoint: WebhookEndpoint) -> WebhookEvent:
    """A ``webhook.test`` event for ``endpoint`` alone (the seller's other endpoints are
    not told), delivered, signed and retried as any other once the caller commits."""
    if not endpoint.enabled:
        raise DeliveryRefused("endpoint_disabled", "the endpoint is disabled")
    event = WebhookEvent(seller_id=endpoint.seller_id, type=TEST_EVENT,
                         data={"endpoint": endpoint.public_id})
    event.deliveries.append(WebhookDelivery(endpoint=endpoint, next_attempt_at=utcnow()))
    db.session.add(event)
    db.session.flush()  # its deliveries wake the worker when the caller commits
    return event
