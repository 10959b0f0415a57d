"""Request ids: on every answer, carried into queued tasks, in JSON log lines."""

import json
import logging

import pytest

from buyflow.request_log import (
    JsonFormatter,
    RequestIdFilter,
    current_request_id,
    request_id_context,
)
from buyflow.tasks import get_tasks, register_task


def test_every_answer_names_its_request(client):
    first, second = client.get("/healthz"), client.get("/flow/?seller=nobody")
    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert all(len(i) == 32 for i in ids) and ids[0] != ids[1]


@pytest.mark.parametrize("asked, kept", [("lb-4f2a9c01-77", True), ("short", False),
                                         ("x" * 65, False), ("a b c d e f g h", False)])
def test_a_callers_request_id_is_kept_when_it_is_sane(client, asked, kept):
    answer = client.get("/healthz", headers={"X-Request-Id": asked})
    assert (answer.headers["X-Request-Id"] == asked) is kept


def test_a_task_queued_by_a_request_runs_under_its_id(app, run_queue):
    seen = []
    register_task(app, "remember_request_id", lambda: seen.append(current_request_id()))
    with app.test_request_context(headers={"X-Request-Id": "req-from-the-lb"}):
        app.preprocess_request()  # the request's before_request handlers
        get_tasks().enqueue("remember_request_id")
    run_queue()
    assert seen == ["req-from-the-lb"]


def test_json_lines_carry_the_request_id_and_the_traceback():
    record = logging.LogRecord("buyflow.payments", logging.ERROR, __file__, 1,
                               "refund %s failed", ("ref_1",), None)
    try:
        raise RuntimeError("provider down")
    except RuntimeError:
        import sys
        record.exc_info = sys.exc_info()
    with request_id_context("req-123456"):
        RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["message"], line["request_id"]) == (
        "ERROR", "buyflow.payments", "refund ref_1 failed", "req-123456")
    assert "RuntimeError: provider down" in line["exception"]
    assert line["time"].endswith("+00:00")
