"""Prometheus metrics, served at ``GET /metrics`` in the text format.

What is counted:

- ``buyflow_http_requests_total{endpoint, method, status}`` and
  ``buyflow_http_request_duration_seconds{endpoint, method}`` (a histogram), every
  request the app answers, by its Flask endpoint (``none`` when no route matched), so
  the labels stay few whatever the paths asked;
- ``buyflow_payments_total{provider, outcome}`` (``succeeded``, ``failed``) and
  ``buyflow_refunds_total{outcome}``, from the domain events (``events.py``), counted
  once the announcing transaction commits (a rolled-back change counts nothing; each
  payment or refund once per transaction);
- ``buyflow_webhook_deliveries_total{outcome}``: the outbound webhook sender calls
  ``count_webhook_delivery`` with each delivery's outcome once it is committed;
- ``buyflow_task_queue_pending`` (tasks waiting in the queue, read from its storage at
  scrape time) and ``buyflow_task_queue_up`` (0 when the storage did not answer).

Access: nobody by default. A scrape is answered when it carries
``Authorization: Bearer <METRICS_TOKEN>``, or comes from an address in
``METRICS_ALLOWED_NETWORKS``; otherwise 401 (a token is configured) or 403.
``METRICS_ENABLED = False`` removes the endpoint and every hook.

Processes: each app has its own registry (``app.extensions``), so a process, or a test
run, may build many apps. Under gunicorn with several workers each worker counts its
own requests, and a scrape reaches one worker only: set ``PROMETHEUS_MULTIPROC_DIR`` (an
empty folder, emptied at every start, writable by the server and the task worker) in the
environment of every process, and the values go to files there (prometheus_client's
multiprocess mode, chosen by the library when it is first imported); a scrape then adds
up every process's, the task worker's included (payments it records, webhook
deliveries). Without it, only what the scraped process counted is seen.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .events import subscribe

log = logging.getLogger(__name__)

_EXTENSION_KEY = "buyflow.metrics"
# Counts waiting for their transaction to commit, in the session's info.
_AFTER_COMMIT = "buyflow.metrics.after_commit"


@dataclass
class Metrics:
    """An app's collectors; ``registry`` is None in multiprocess mode, where the values
    live in PROMETHEUS_MULTIPROC_DIR's files and a scrape reads them all."""

    registry: CollectorRegistry | None
    allowed_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
    queue: QueueDepth
    requests: Counter
    latency: Histogram
    payments: Counter
    refunds: Counter
    webhook_deliveries: Counter


class QueueDepth:
    """A collector reading the task queue's pending count at each scrape."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from .tasks import get_tasks

        up = GaugeMetricFamily("buyflow_task_queue_up",
                               "1 when the task queue's storage answered this scrape")
        try:
            with self.app.app_context():
                pending = get_tasks().huey.pending_count()
        except Exception:  # a scrape says the queue is down rather than failing
            log.warning("metrics: the task queue's pending count cannot be read",
                        exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("buyflow_task_queue_pending",
                                "Tasks waiting in the task queue", value=pending)


def _multiprocess() -> bool:
    # prometheus_client's own switch, read by the library itself: not app config.
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def _networks(entries: list[str] | str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """METRICS_ALLOWED_NETWORKS parsed: a list, or from the environment a comma-separated
    string; ValueError for an entry that is not a network."""
    if isinstance(entries, str):
        entries = [entry for entry in entries.split(",") if entry.strip()]
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries]


def _build(app: Flask) -> Metrics:
    registry = None if _multiprocess() else CollectorRegistry()
    if registry is not None:
        ProcessCollector(registry=registry)  # this process's memory, CPU, open files
    return Metrics(
        registry=registry,
        allowed_networks=_networks(app.config["METRICS_ALLOWED_NETWORKS"]),
        queue=QueueDepth(app),
        requests=Counter("buyflow_http_requests", "Requests answered",
                         ["endpoint", "method", "status"], registry=registry),
        latency=Histogram("buyflow_http_request_duration_seconds",
                          "Time to answer a request", ["endpoint", "method"],
                          registry=registry),
        payments=Counter("buyflow_payments", "Payments that reached an outcome",
                         ["provider", "outcome"], registry=registry),
        refunds=Counter("buyflow_refunds", "Refunds that reached an outcome",
                        ["outcome"], registry=registry),
        webhook_deliveries=Counter("buyflow_webhook_deliveries",
                                   "Outbound webhook delivery outcomes", ["outcome"],
                                   registry=registry),
    )


def init_app(app: Flask) -> None:
    """Count requests, payment and refund outcomes, and serve ``/metrics`` (unless
    METRICS_ENABLED is off). Registered before the other request hooks, so a request
    refused by one of them is timed and counted too. Raises ValueError for a
    METRICS_ALLOWED_NETWORKS entry that is not a network."""
    if not app.config["METRICS_ENABLED"]:
        return
    metrics = _build(app)
    if metrics.registry is not None:
        metrics.registry.register(metrics.queue)
    app.extensions[_EXTENSION_KEY] = metrics
    app.before_request(_start_timer)
    app.after_request(_count_request)
    subscribe(app, "payment.succeeded", _payment_succeeded)
    subscribe(app, "payment.failed", _payment_failed)
    subscribe(app, "refund.succeeded", _refund_succeeded)
    subscribe(app, "refund.failed", _refund_failed)
    if not sa_event.contains(Session, "after_commit", _count_after_commit):
        sa_event.listen(Session, "after_commit", _count_after_commit)
        sa_event.listen(Session, "after_rollback", _forget_after_rollback)
    app.add_url_rule("/metrics", "metrics", scrape)


def _metrics() -> Metrics:
    return current_app.extensions[_EXTENSION_KEY]


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _count_request(response: Response) -> Response:
    metrics = _metrics()
    endpoint = request.endpoint or "none"
    metrics.requests.labels(endpoint, request.method, str(response.status_code)).inc()
    started = g.pop("metrics_started", None)
    if started is not None:
        metrics.latency.labels(endpoint, request.method).observe(
            time.perf_counter() - started)
    return response


def count_webhook_delivery(app: Flask, outcome: str) -> None:
    """Count one outcome of an outbound webhook delivery, once it is committed: the
    delivery's status after an attempt (``delivered``; ``pending``, a retry scheduled;
    ``failed``, given up) or ``canceled`` (its endpoint disabled). Nothing when metrics
    are off."""
    metrics = app.extensions.get(_EXTENSION_KEY)
    if metrics is not None:
        metrics.webhook_deliveries.labels(outcome).inc()


def _count_when_committed(counter: Counter, labels: tuple[str, ...], key: tuple) -> None:
    """Increment ``counter`` at ``labels`` once the current transaction commits; a
    ``key`` counted twice in one transaction counts once."""
    from .extensions import db

    db.session().info.setdefault(_AFTER_COMMIT, set()).add((counter, labels, key))


def _count_after_commit(session: Session) -> None:
    for counter, labels, _key in session.info.pop(_AFTER_COMMIT, ()):
        counter.labels(*labels).inc()


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def _payment_succeeded(order, payment) -> None:
    _count_when_committed(_metrics().payments, (payment.provider, "succeeded"),
                          ("payment", payment.id))


def _payment_failed(order, payment) -> None:
    _count_when_committed(_metrics().payments, (payment.provider, "failed"),
                          ("payment", payment.id))


def _refund_succeeded(order, refund) -> None:
    _count_when_committed(_metrics().refunds, ("succeeded",), ("refund", refund.id))


def _refund_failed(order, refund) -> None:
    _count_when_committed(_metrics().refunds, ("failed",), ("refund", refund.id))


def _allowed() -> bool:
    """The scrape carries the configured bearer token, or comes from an allowed
    network."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        # str(): from the environment, a token of digits arrives as a number.
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              str(token).encode()):
            return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in _metrics().allowed_networks)


def scrape() -> Response:
    """Every metric in Prometheus's text format, to an allowed scraper only."""
    if not _allowed():
        if current_app.config["METRICS_TOKEN"]:
            abort(Response(status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}))
        abort(403)
    metrics = _metrics()
    registry = metrics.registry
    if registry is None:  # multiprocess: every process's files, and the queue now
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(metrics.queue)
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
