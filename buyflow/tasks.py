"""The task queue: Huey, built per app from its config.

Storage is SQLite in the instance folder by default (nothing to start) and Redis when
``REDIS_URL`` is set. Run the worker with ``flask --app wsgi worker``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import click
from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper

_EXTENSION_KEY = "buyflow.tasks"


@dataclass(frozen=True)
class Tasks:
    huey: Huey
    deliver_webhook: TaskWrapper
    sweep_webhooks: TaskWrapper
    send_receipt: TaskWrapper
    sweep_receipts: TaskWrapper


def _build_huey(app: Flask) -> Huey:
    immediate = app.config["TASKS_IMMEDIATE"]
    if app.config["REDIS_URL"]:
        return RedisHuey("buyflow", url=app.config["REDIS_URL"], immediate=immediate)
    return SqliteHuey("buyflow", filename=str(Path(app.instance_path) / "huey.sqlite"),
                      immediate=immediate)


def init_app(app: Flask) -> None:
    """Build the app's Huey and register its tasks, each run inside an app context."""
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
    )
    webhooks.init_app(app)
    receipts.init_app(app)

    @app.cli.command("worker")
    @click.option("--workers", default=2, show_default=True)
    def worker(workers: int) -> None:
        """Run the task queue's worker (webhook deliveries, receipt emails, their retries)."""
        huey.create_consumer(workers=workers, periodic=True).run()


def get_tasks() -> Tasks:
    return current_app.extensions[_EXTENSION_KEY]
