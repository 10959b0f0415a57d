"""How long the buyer's purchases page takes with many orders in the database.

    .venv/bin/python bench/purchases_page.py 10000 1000000

For each size: a fresh SQLite database (or BUYFLOW_BENCH_DATABASE_URL, emptied first) made
by the migrations, filled with that many orders spread over buyers (the measured buyer has
2,000 of them, bought half with their primary email and half with a verified other one),
then the first page and a page deep in the history (keyset ``after``) are fetched 30 times
each through the app; prints the median and 95th percentile.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import MetaData, create_engine, insert  # noqa: E402

from buyflow import create_app  # noqa: E402
from buyflow.extensions import db  # noqa: E402
from buyflow.models import Buyer, BuyerEmail, Order, Seller  # noqa: E402
from buyflow.models._base import utcnow  # noqa: E402

BUYER = "bench@example.com"
BUYER_OTHER_EMAIL = "bench.work@example.com"
BUYER_ORDERS = 2_000
RUNS = 30


def fill(size: int) -> None:
    seller = Seller(name="Bench shop", origins=["https://bench.example"], signing_secrets=["s"])
    db.session.add(seller)
    db.session.commit()
    start = datetime.now(UTC)
    batch = []
    step = max(size // BUYER_ORDERS, 1)
    for i in range(size):
        if i % step == 0:  # the measured buyer's, with each of their emails in turn
            email = (BUYER, BUYER_OTHER_EMAIL)[i // step % 2]
        else:
            email = f"buyer{i % 50_000}@example.com"
        batch.append({
            "public_id": f"ord_bench{i:09d}", "seller_id": seller.id, "buyer_email": email,
            "checkout_key": f"bench{i}", "status": "paid", "amount": 1000 + i % 500,
            "currency": "EUR", "locale": "en", "created_at": start - timedelta(seconds=size - i),
        })
        if len(batch) == 10_000:
            db.session.execute(insert(Order), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(Order), batch)
    db.session.commit()


def timed(client, url: str) -> list[float]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def measure(size: int) -> None:
    folder = tempfile.mkdtemp(prefix="buyflow-bench-")
    url = os.environ.get("BUYFLOW_BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite"
    if "BUYFLOW_BENCH_DATABASE_URL" in os.environ:
        engine = create_engine(url)
        meta = MetaData()
        meta.reflect(engine)
        meta.drop_all(engine)
        engine.dispose()
    app = create_app(instance_path=folder, test_config={
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "STRIPE_SECRET_KEY": None,
        "MAIL_BACKEND": "locmem"})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        fill(size)
        filled = time.perf_counter() - started
        buyer_orders = db.session.scalars(db.select(Order.public_id).where(
            Order.buyer_email.in_([BUYER, BUYER_OTHER_EMAIL])).order_by(Order.id.desc())).all()
        buyer = Buyer(email=BUYER, session_epoch=0)
        buyer.emails.append(BuyerEmail(email=BUYER_OTHER_EMAIL, verified_at=utcnow()))
        db.session.add(buyer)
        db.session.commit()
        buyer_id = buyer.id
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(buyer=buyer_id, epoch=0, sid="bench")
    deep = buyer_orders[len(buyer_orders) * 3 // 4]
    for name, url_ in (("first page", "/account/"), ("deep page", f"/account/?after={deep}")):
        times = timed(client, url_)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"{size:>9,} orders ({len(buyer_orders):,} the buyer's) {name:>10}: "
              f"median {statistics.median(times):6.1f} ms, p95 {p95:6.1f} ms"
              f"   (database filled in {filled:.0f} s)")


if __name__ == "__main__":
    for size in [int(arg) for arg in sys.argv[1:]] or [10_000, 1_000_000]:
        measure(size)
