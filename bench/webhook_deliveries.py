"""Webhook deliveries per second through one task-queue worker, against a plain
``requests.post`` loop signing the same payloads (target: at least 0.65 of it).

    .venv/bin/python bench/webhook_deliveries.py             # 5 rounds of 400 deliveries
    .venv/bin/python bench/webhook_deliveries.py 3 200
    BUYFLOW_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        BUYFLOW_BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/webhook_deliveries.py

The receiver is a keep-alive HTTP/1.1 server answering 200 in a process of its own. Each
round records its events first (untimed: an order-sized payload each, one transaction
each, as payments make them, each commit waking the delivery task as in production),
then times the two sides one after the other on the same payloads (which goes first
alternates between rounds):

- **ours**: one worker taking every task off the queue (Huey, SQLite storage unless a
  Redis URL is given) and running it — claim, load, sign, post, log the attempt, mark it
  delivered — until the queue is empty (every delivery of the round delivered, checked);
- **plain**: a loop signing each payload (Standard Webhooks, the same secret) and posting
  it with ``requests.post`` (a connection of its own each time, as ``requests.post``
  makes; ours keeps one alive, as a worker does).

Prints each round's rates and the medians' ratio.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from buyflow import create_app  # noqa: E402
from buyflow.extensions import db  # noqa: E402
from buyflow.models import Seller, WebhookDelivery  # noqa: E402
from buyflow.models._base import utcnow  # noqa: E402
from buyflow.sellers.accounts import add_webhook_endpoint  # noqa: E402
from buyflow.sellers.webhooks import event_body, record_event, signed_headers  # noqa: E402
from buyflow.tasks import get_tasks  # noqa: E402


class _Answer200(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a seller's server would offer

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _serve(port: int) -> None:
    http.server.ThreadingHTTPServer(("127.0.0.1", port), _Answer200).serve_forever()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _order_like(i: int) -> dict:
    """A payload the size and shape of an ``order.completed`` event's."""
    return {"order": {
        "id": f"ord_bench{i:09d}", "seller": "sel_bench", "status": "paid", "amount": 1450,
        "currency": "EUR", "buyer_email": f"buyer{i}@example.com",
        "items": [{"name": "Ethiopia Yirgacheffe, 250 g", "quantity": 1,
                   "unit_amount": 1450, "amount": 1450, "product": "prod_bench"}],
        "created_at": "2026-12-01T12:00:00+00:00", "paid_at": "2026-12-01T12:00:05+00:00",
        "reference": None, "passthrough": None, "amount_paid": 1450, "amount_due": 0,
        "refunded_amount": 0, "refunds": [],
        "payments": [{"id": f"pay_bench{i:09d}", "status": "succeeded", "amount": 1450,
                      "source": "card", "method": {"type": "card", "brand": "visa",
                                                   "last4": "4242"}}]}}


def make_app(folder: str):
    url = os.environ.get("BUYFLOW_BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite"
    app = create_app(instance_path=folder, test_config={
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "STRIPE_SECRET_KEY": None,
        "MAIL_BACKEND": "locmem", "REDIS_URL": os.environ.get("BUYFLOW_BENCH_REDIS_URL"),
        "TASKS_SQLITE_PATH": f"{folder}/huey.sqlite", "WEBHOOK_ALLOW_PRIVATE_URLS": True})
    with app.app_context():
        if url.startswith("postgresql"):
            db.drop_all()
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        with contextlib.redirect_stderr(io.StringIO()):  # the migrations' log
            upgrade()
    return app


def record_round(seller_id: int, first: int, count: int) -> list[tuple[str, str]]:
    """``count`` events, one transaction each (each queues its delivery's task); their
    ids and bodies."""
    session = db.session()
    session.expire_on_commit = False  # not timed, but long: the seller is not read again
    seller = session.get(Seller, seller_id)
    events = []
    for i in range(first, first + count):
        events.append(record_event(seller, "order.completed", _order_like(i)))
        session.commit()
    bodies = [(event.public_id, event_body(event)) for event in events]
    db.session.remove()
    return bodies


def _delivered() -> int:
    count = db.session.scalar(db.select(db.func.count(WebhookDelivery.id))
                              .filter_by(status="delivered"))
    db.session.remove()
    return count


def run_ours(count: int) -> float:
    """Deliveries per second of one worker emptying the queue (which must deliver
    ``count``)."""
    huey = get_tasks().huey
    before = _delivered()
    started = time.perf_counter()
    # Not ``while huey.dequeue()``: on an empty Redis queue it waits for a task (a
    # second), which is a worker's idle time, not delivery work.
    while huey.pending_count():
        huey.execute(huey.dequeue())
    elapsed = time.perf_counter() - started
    if (done := _delivered() - before) != count:
        raise SystemExit(f"the queue delivered {done}, not {count}")
    return count / elapsed


def run_plain(url: str, secret: str, bodies: list[tuple[str, str]]) -> float:
    """Deliveries per second of a loop signing and posting the same payloads."""
    started = time.perf_counter()
    for message_id, body in bodies:
        headers = signed_headers(secret, message_id, utcnow(), body)
        response = requests.post(url, data=body.encode(), headers=headers, timeout=10)
        response.raise_for_status()
    return len(bodies) / (time.perf_counter() - started)


def main(rounds: int, per_round: int) -> None:
    port = _free_port()
    receiver = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    receiver.start()
    time.sleep(0.5)
    url = f"http://127.0.0.1:{port}/webhooks"
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(folder)
        with app.app_context():
            get_tasks().huey.flush()
            seller = Seller(name="Bench", origins=["https://shop.example"],
                            signing_secrets=["sign_bench"])
            db.session.add(seller)
            endpoint, secret = add_webhook_endpoint(seller, url)
            db.session.commit()
            seller_id = seller.id
            ours, plain = [], []
            for r in range(rounds):
                bodies = record_round(seller_id, r * per_round, per_round)
                if r % 2:  # every other round plain first, so a drifting load evens out
                    plain.append(run_plain(url, secret, bodies))
                    ours.append(run_ours(per_round))
                else:
                    ours.append(run_ours(per_round))
                    plain.append(run_plain(url, secret, bodies))
                print(f"round {r + 1}: ours {ours[-1]:7.1f}/s   plain {plain[-1]:7.1f}/s")
            if (delivered := _delivered()) != rounds * per_round:
                raise SystemExit(f"only {delivered} of {rounds * per_round} delivered")
    receiver.terminate()
    where = "PostgreSQL" if os.environ.get("BUYFLOW_BENCH_DATABASE_URL") else "SQLite"
    queue = "Redis" if os.environ.get("BUYFLOW_BENCH_REDIS_URL") else "Huey SQLite"
    ours_median, plain_median = statistics.median(ours), statistics.median(plain)
    print(f"webhook deliveries, one worker ({where}, {queue}): {ours_median:.1f}/s; "
          f"plain requests.post loop: {plain_median:.1f}/s; "
          f"ratio {ours_median / plain_median:.2f} (target >= 0.65)")


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    main(*(arguments or [5, 400]))
