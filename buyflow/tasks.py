"""The task queue: Huey, built per app from its config, with the tasks features register.

Storage is SQLite in ``TASKS_SQLITE_PATH`` by default (``instance/huey.sqlite``: nothing
to start) and Redis when ``REDIS_URL`` is set. Run the worker with ``flask --app wsgi
worker``. Features register their own tasks in their ``init_app`` (``register_task``,
``register_periodic``), so this module knows none of them; each task runs inside an app
context. A task that takes whatever work is due when it starts can be woken instead of
queued (``TaskQueue.wake``): a burst of commits then queues one run, not one each.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import click
from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .request_log import current_request_id, request_id_context

log = logging.getLogger(__name__)

_EXTENSION_KEY = "buyflow.tasks"
_AFTER_COMMIT = "buyflow.enqueue_after_commit"
# The keyword a queued task carries its request's id in (taken off before it runs).
_REQUEST_ID_KWARG = "_request_id"
# In the queue's storage, under this prefix and a task's name: a woken run of that task
# is queued and has not started yet.
_WOKEN_KEY = "buyflow.woken:"


@dataclass
class TaskQueue:
    """An app's Huey and the tasks registered on it, by name."""

    huey: Huey
    tasks: dict[str, TaskWrapper] = field(default_factory=dict)

    def enqueue(self, name: str, *args, eta: datetime | None = None) -> None:
        """Queue task ``name`` with ``args``, to run at once or at ``eta``, as the work of
        the current request (its logs name the request's id)."""
        task = self.tasks[name]
        carried = {_REQUEST_ID_KWARG: current_request_id()}
        if eta is None:
            task(*args, **carried)
        else:
            task.schedule(args, carried, eta=eta)

    def wake(self, name: str) -> None:
        """Queue a run of task ``name``, without arguments, unless one is queued already
        and has not started: for a task that does whatever work is due when it starts
        (and wakes itself again when it leaves some), so a burst of wakes queues it once.
        ``name`` must be registered ``wakeable``. The run is nobody's request's work, so
        it carries no request id.

        A wake-up lost with its run (the queue's storage lost, a crash between the two
        writes below) stops further wakes until the next run of the task starts, however
        that run was queued: the feature's sweep must queue one (``enqueue``) for the work
        it finds waiting."""
        key = _WOKEN_KEY + name
        if not self.huey.put_if_empty(key, True):
            return
        try:
            self.tasks[name]()
        except Exception:
            self.huey.delete(key)
            raise


def _build_huey(app: Flask) -> Huey:
    # No task's return value is ever read (``enqueue`` answers nothing): storing them
    # would cost a write per task and grow the storage for ever.
    options = {"immediate": app.config["TASKS_IMMEDIATE"], "results": False}
    if app.config["REDIS_URL"]:
        return RedisHuey("buyflow", url=app.config["REDIS_URL"], **options)
    return SqliteHuey("buyflow", filename=app.config["TASKS_SQLITE_PATH"], **options)


def _in_app_context(app: Flask, fn: Callable) -> Callable:
    @functools.wraps(fn)
    def run(*args, **kwargs):
        request_id = kwargs.pop(_REQUEST_ID_KWARG, None)
        with app.app_context(), request_id_context(request_id):
            return fn(*args, **kwargs)
    return run


def init_app(app: Flask) -> None:
    """Build the app's Huey (before any feature registers its tasks) and the worker
    command."""
    queue = TaskQueue(huey=_build_huey(app))
    app.extensions[_EXTENSION_KEY] = queue
    if not sa_event.contains(Session, "after_commit", _enqueue_after_commit):
        sa_event.listen(Session, "after_commit", _enqueue_after_commit)
        sa_event.listen(Session, "after_rollback", _forget_after_rollback)

    @app.cli.command("worker")
    @click.option("--workers", default=2, show_default=True)
    def worker(workers: int) -> None:
        """Run the task queue's worker (webhook deliveries, receipt emails, refunds of
        overpayments, order expiry, reconciliation with the provider, their retries)."""
        queue.huey.create_consumer(workers=workers, periodic=True).run()


def register_task(app: Flask, name: str, fn: Callable, *, wakeable: bool = False,
                  **options) -> TaskWrapper:
    """Make ``fn`` the task ``name`` of ``app``'s queue (``options`` as Huey's: retries,
    retry_delay), run inside an app context. A ``wakeable`` task can be queued by
    ``TaskQueue.wake`` too: each of its runs, however queued, first says it started, so
    the next wake queues another run."""
    queue: TaskQueue = app.extensions[_EXTENSION_KEY]
    run = _in_app_context(app, fn)
    if wakeable:
        run = _saying_it_started(queue.huey, name, run)
    task = queue.huey.task(name=name, **options)(run)
    queue.tasks[name] = task
    return task


def _saying_it_started(huey: Huey, name: str, fn: Callable) -> Callable:
    key = _WOKEN_KEY + name

    @functools.wraps(fn)
    def run(*args, **kwargs):
        huey.delete(key)  # before any work: a wake from now on queues another run
        return fn(*args, **kwargs)
    return run


def register_periodic(app: Flask, name: str, schedule, fn: Callable) -> TaskWrapper:
    """Run ``fn`` on ``schedule`` (a ``huey.crontab``) in the worker, in an app context."""
    queue: TaskQueue = app.extensions[_EXTENSION_KEY]
    task = queue.huey.periodic_task(schedule, name=name)(_in_app_context(app, fn))
    queue.tasks[name] = task
    return task


def get_tasks() -> TaskQueue:
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
