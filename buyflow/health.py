"""Health and readiness, for load balancers and orchestrators.

``GET /healthz``: the process answers (nothing else is looked at). ``GET /readyz``: the
database, the task queue and the card provider each answer within
``READINESS_TIMEOUT`` seconds, checked side by side; the JSON body names each check and
the answer is 503 when one fails. Both need no auth, set no cookie, are never
rate-limited and never cached. A failure is named by its kind only (the details, which
may name hosts, go to the log), since anyone may ask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

import requests
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from .extensions import db, limiter

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def _answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """200 whenever the process can answer at all."""
    return _answer({"status": "ok"}, 200)


def check_database() -> dict:
    """The database runs a query."""
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {}


def check_queue() -> dict:
    """The task queue's storage (SQLite or Redis) answers; how many tasks wait in it."""
    from .tasks import get_tasks

    return {"pending": get_tasks().huey.pending_count()}


def check_provider() -> dict:
    """The card provider's API answers HTTP at all (any status: reachable is the
    question, not the keys), within READINESS_TIMEOUT."""
    from .payments import get_provider

    timeout = float(current_app.config["READINESS_TIMEOUT"])
    requests.get(get_provider().api_base, timeout=timeout, allow_redirects=False)
    return {}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database, "queue": check_queue, "provider": check_provider}


def _run_in(app: Flask, check: Callable[[], dict]) -> dict:
    with app.app_context():
        return check()


@bp.get("/readyz")
def readyz():
    """200 with every check's result when all pass, else 503; a check that has not
    answered within READINESS_TIMEOUT seconds has failed."""
    timeout = current_app.config["READINESS_TIMEOUT"]
    app = current_app._get_current_object()
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readyz")
    futures = {name: pool.submit(_run_in, app, check)
               for name, check in CHECKS.items()}
    done, _ = wait(futures.values(), timeout=timeout)
    # A check still hanging is left to end in its own time; nobody waits for it.
    pool.shutdown(wait=False, cancel_futures=True)
    results = {}
    for name, future in futures.items():
        if future not in done:
            log.warning("readiness: %s gave no answer within %s s", name, timeout)
            results[name] = {"ok": False, "error": f"no answer within {timeout} s"}
        elif future.exception() is not None:
            error = future.exception()
            log.warning("readiness: %s failed", name, exc_info=error)
            results[name] = {"ok": False, "error": type(error).__name__}
        else:
            results[name] = {"ok": True, **future.result()}
    ready = all(result["ok"] for result in results.values())
    return _answer({"status": "ready" if ready else "unready", "checks": results},
                   200 if ready else 503)


def init_app(app: Flask) -> None:
    """Serve /healthz and /readyz, exempt from every rate limit."""
    app.register_blueprint(bp)
    limiter.exempt(bp)
