"""The task queue: Huey, built per app from its config.

Storage is SQLite in the instance folder by default (nothing to start) and Redis when
``REDIS_URL`` is set. Run the worker with ``flask --app wsgi worker``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_EXTENSION_KEY = "buyflow.tasks"
_AFTER_COMMIT = "buyflow.enqueue_after_commit"


@dataclass(frozen=True)
class Tasks:
    huey: Huey
    deliver_webhook: TaskWrapper
    sweep_webhooks: TaskWrapper
    send_receipt: TaskWrapper
    sweep_receipts: TaskWrapper
    execute_refund: TaskWrapper
    reconcile_payments: TaskWrapper


def _build_huey(app: Flask) -> Huey:
    immediate = app.config["TASKS_IMMEDIATE"]
    if app.config["REDIS_URL"]:
        return RedisHuey("buyflow", url=app.config["REDIS_URL"], immediate=immediate)
    return SqliteHuey("buyflow", filename=str(Path(app.instance_path) / "huey.sqlite"),
                      immediate=immediate)


def init_app(app: Flask) -> None:
    """Build the app's Huey and register its tasks, each run inside an app context."""
    from .payments import reconcile, refunds
    from .receipts import mail as receipts
    from .sellers import webhooks

    huey = _build_huey(app)

    def in_app_context(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with app.app_context():
                return fn(*args, **kwargs)
        return run

    app.extensions[_EXTENSION_KEY] = Tasks(
        huey=huey,
        deliver_webhook=huey.task(name="deliver_webhook")(
            in_app_context(webhooks.attempt_delivery)),
        sweep_webhooks=huey.periodic_task(crontab(minute="*"), name="sweep_webhooks")(
            in_app_context(webhooks.enqueue_due_deliveries)),
        send_receipt=huey.task(name="send_receipt", retries=app.config["RECEIPT_RETRIES"],
                               retry_delay=app.config["RECEIPT_RETRY_DELAY"])(
            in_app_context(receipts.send_receipt)),
        sweep_receipts=huey.periodic_task(crontab(minute="*/15"), name="sweep_receipts")(
            in_app_context(receipts.enqueue_unsent_receipts)),
        execute_refund=huey.task(name="execute_refund")(
            in_app_context(refunds.execute_refund_task)),
        reconcile_payments=huey.periodic_task(
            crontab(minute=f"*/{app.config['RECONCILE_EVERY_MINUTES']}"),
            name="reconcile_payments")(in_app_context(reconcile.reconcile_task)),
    )
    webhooks.init_app(app)
    if not sa_event.contains(Session, "after_commit", _enqueue_after_commit):
        sa_event.listen(Session, "after_commit", _enqueue_after_commit)
        sa_event.listen(Session, "after_rollback", _forget_after_rollback)

    @app.cli.command("worker")
    @click.option("--workers", default=2, show_default=True)
    def worker(workers: int) -> None:
        """Run the task queue's worker (webhook deliveries, receipt emails, refunds of
        overpayments, reconciliation with the provider, their retries)."""
        huey.create_consumer(workers=workers, periodic=True).run()


def get_tasks() -> Tasks:
    return current_app.extensions[_EXTENSION_KEY]


def enqueue_after_commit(session: Session, enqueue: Callable[[list[int]], None],
                         ids: Iterable[int]) -> None:
    """Have ``enqueue`` called with ``ids`` (row ids, deduplicated, in order) once the
    session's current transaction commits; nothing if it rolls back. A queue that is down
    then is logged, not raised: the periodic sweeps find the rows again."""
    pending = session.info.setdefault(_AFTER_COMMIT, {})
    pending.setdefault(enqueue, set()).update(ids)


def _enqueue_after_commit(session: Session) -> None:
    pending = session.info.pop(_AFTER_COMMIT, None)
    if not pending or not has_app_context():
        return
    for enqueue, ids in pending.items():
        try:
            enqueue(sorted(ids))
        except Exception:  # the queue is down: the periodic sweep will find them
            log.exception("could not enqueue %s for %s", enqueue.__qualname__, sorted(ids))


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
