"""How long the seller API's order list takes with many orders: its filters at 1,000,000
orders against at 10,000 (target: at most 1.5 times as long).

    .venv/bin/python bench/orders_list.py            # 10,000 and 1,000,000 orders
    .venv/bin/python bench/orders_list.py 10000 100000
    BUYFLOW_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/orders_list.py

For each size: a fresh database made by the migrations (a SQLite file; on PostgreSQL, in
BUYFLOW_BENCH_DATABASE_URL, a schema ``bench_orders_<size>`` made anew), filled in bulk
(executemany on SQLite, COPY on PostgreSQL), then analysed (ANALYZE, as PostgreSQL's
autovacuum and SQLite's ``PRAGMA optimize`` do). The orders belong to four sellers in
turn and arrive one a minute, ids following creation times, so a larger database has a
longer history, not a busier day; statuses are mixed (most paid, some pending, expired,
refunded). Each query is ``GET /api/v1/orders`` through the app with the measured
seller's API key, asked ``RUNS`` times at both sizes in turn (interleaved, so both see
the same machine); prints each one's median at both sizes and their ratio.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from buyflow import create_app  # noqa: E402
from buyflow.extensions import db  # noqa: E402
from buyflow.models import Order, Seller, SellerApiKey  # noqa: E402
from buyflow.models.sellers import hash_api_key  # noqa: E402

API_KEY = "sk_bench_orders"
SELLERS = 4
RUNS = 30
BATCH = 20_000
# Newest order's creation time; one order a minute before it, back in time.
NEWEST = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# Of every 20 orders: 14 paid, 2 pending, 2 expired, 1 refunded, 1 partially refunded.
STATUSES = (["paid"] * 14 + ["pending"] * 2 + ["expired"] * 2 + ["refunded"]
            + ["partially_refunded"])
COLUMNS = ("public_id", "seller_id", "buyer_email", "checkout_key", "status", "amount",
           "currency", "locale", "created_at")


def _moment(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def queries(size: int) -> list[tuple[str, dict]]:
    """Each query a name and its query string at ``size`` orders. "Last day" is the
    newest day; "first day" the oldest of the history, about a week before the newest
    order at 10,000 orders and two years before at 1,000,000 (without an index on the
    time, the whole history is walked to reach it)."""
    oldest = NEWEST - timedelta(minutes=size - 1)
    last_day = {"created_gte": _moment(NEWEST - timedelta(days=1)),
                "created_lt": _moment(NEWEST + timedelta(minutes=1))}
    first_day = {"created_gte": _moment(oldest),
                 "created_lt": _moment(oldest + timedelta(days=1))}
    return [
        ("status=paid", {"status": "paid"}),
        ("status=refunded", {"status": "refunded"}),
        ("paid, last day", {"status": "paid", **last_day}),
        ("refunded, first day", {"status": "refunded", **first_day}),
        ("any status, first day", first_day),
    ]


def _rows(size: int, seller_ids: list[int]):
    for i in range(size):
        yield (f"ord_bench{i:09d}", seller_ids[i % SELLERS], f"buyer{i % 50_000}@example.com",
               f"bench{i}", STATUSES[i // SELLERS % len(STATUSES)], 1000 + i % 500, "EUR", "en",
               NEWEST - timedelta(minutes=size - 1 - i))


def fill(size: int) -> int:
    """``size`` orders over SELLERS sellers, in bulk; the measured seller's id."""
    sellers = [Seller(name=f"Bench shop {n}", origins=["https://bench.example"],
                      signing_secrets=["bench"]) for n in range(SELLERS)]
    sellers[0].api_keys.append(SellerApiKey(key_hash=hash_api_key(API_KEY), hint="ders"))
    db.session.add_all(sellers)
    db.session.commit()
    seller_ids = [seller.id for seller in sellers]
    rows = _rows(size, seller_ids)
    if db.engine.dialect.name == "postgresql":
        connection = db.engine.raw_connection()
        try:
            with connection.cursor() as cursor, cursor.copy(
                    f"COPY orders ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            connection.commit()
        finally:
            connection.close()
    else:
        table = Order.__table__
        batch = []
        for row in rows:
            batch.append(dict(zip(COLUMNS, row)))
            if len(batch) == BATCH:
                db.session.execute(table.insert(), batch)
                batch.clear()
        if batch:
            db.session.execute(table.insert(), batch)
        db.session.commit()
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return seller_ids[0]


def build(size: int):
    """An app on a fresh database of ``size`` orders: a SQLite file, or on PostgreSQL
    (BUYFLOW_BENCH_DATABASE_URL) a schema of its own, made anew."""
    folder = tempfile.mkdtemp(prefix="buyflow-bench-")
    url = os.environ.get("BUYFLOW_BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite"
    options = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        schema = f"bench_orders_{size}"
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        options["connect_args"] = {"options": f"-c search_path={schema}"}
    app = create_app(instance_path=folder, test_config={
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "STRIPE_SECRET_KEY": None,
        "SQLALCHEMY_ENGINE_OPTIONS": options, "MAIL_BACKEND": "locmem", "REDIS_URL": None})
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):  # the migrations' log
            upgrade()
        started = time.perf_counter()
        fill(size)
        print(f"{size:>9,} orders: database filled and analysed in "
              f"{time.perf_counter() - started:.0f} s")
        db.session.remove()
    return app


def timed(client, query: dict) -> float:
    """Milliseconds of one ``GET /api/v1/orders`` with ``query``."""
    started = time.perf_counter()
    response = client.get("/api/v1/orders", query_string=query,
                          headers={"Authorization": f"Bearer {API_KEY}"})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or not response.json["data"]:
        raise SystemExit(f"{query}: {response.status_code} {response.text[:200]}")
    return elapsed


def main(sizes: list[int]) -> None:
    where = "PostgreSQL" if os.environ.get("BUYFLOW_BENCH_DATABASE_URL") else "SQLite"
    small, large = sizes
    apps = {size: build(size) for size in (small, large)}
    clients = {size: app.test_client() for size, app in apps.items()}
    asked = {size: queries(size) for size in sizes}
    names = [name for name, _ in asked[small]]
    times = {(size, name): [] for size in sizes for name in names}
    for size in sizes:  # a first call each, not counted (caches, plans)
        for name, query in asked[size]:
            timed(clients[size], query)
    for _ in range(RUNS):  # interleaved: both sizes see the same machine
        for index, name in enumerate(names):
            for size in sizes:
                times[size, name].append(timed(clients[size], asked[size][index][1]))
    print(f"GET /api/v1/orders on {where}, median of {RUNS} runs, interleaved; "
          f"ratio {large:,} ÷ {small:,} orders (target ≤ 1.5):")
    ratios = []
    for name in names:
        at_small = statistics.median(times[small, name])
        at_large = statistics.median(times[large, name])
        ratios.append(at_large / at_small)
        print(f"  {name:<32} {at_small:7.2f} ms   {at_large:7.2f} ms   {ratios[-1]:5.2f}")
    print(f"  worst ratio {max(ratios):.2f}")
    for size, app in apps.items():
        with app.app_context():
            if db.engine.dialect.name == "postgresql":  # leave the database as it was
                with db.engine.begin() as connection:
                    connection.execute(text(f"DROP SCHEMA bench_orders_{size} CASCADE"))
            db.engine.dispose()


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10_000, 1_000_000])
