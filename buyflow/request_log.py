"""Logs that say which request wrote them: every request gets an id (the caller's
``X-Request-Id`` when it is a sane one, else a new one), answered back in the same
header and carried into the tasks the request queues; with ``LOG_FORMAT = "json"`` every
log line is one JSON object naming it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-Id"
# What a caller's id may look like (what load balancers and tracing headers send).
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")

_current = contextvars.ContextVar("buyflow_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request (or of the request that queued the task) being served."""
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def request_id_context(request_id: str | None) -> Iterator[str]:
    """Run the block as the work of ``request_id`` (a new one when None)."""
    request_id = request_id or new_request_id()
    token = _current.set(request_id)
    try:
        yield request_id
    finally:
        _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Gives every record a ``request_id`` ("-" outside any request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request id,
    and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def _begin_request() -> None:
    asked = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = asked if SANE_REQUEST_ID.fullmatch(asked) else new_request_id()
    g.request_id = request_id
    g.request_id_token = _current.set(request_id)


def _answer_request_id(response: Response) -> Response:
    if request_id := g.get("request_id"):
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def _end_request(_exc) -> None:
    if (token := g.pop("request_id_token", None)) is not None:
        _current.reset(token)


def _install_json_logging() -> None:
    """Send every log record to stderr as a JSON line, once per process."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root.handlers = [handler]
    root.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    """Give requests their ids and, with ``LOG_FORMAT = "json"``, log JSON lines."""
    app.before_request(_begin_request)
    app.after_request(_answer_request_id)
    app.teardown_request(_end_request)
    if app.config["LOG_FORMAT"] == "json":
        _install_json_logging()
