"""Checkouts per second through the real app under gunicorn, against a bare Flask +
Flask-SQLAlchemy app inserting one row per request on the same server (target: at least
0.33 of it).

    .venv/bin/python bench/checkout_throughput.py              # 5 rounds of 8 s a side
    .venv/bin/python bench/checkout_throughput.py 3 5          # 3 rounds of 5 s
    BUYFLOW_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/checkout_throughput.py

Starts localstripe (with Buyflow's development shim, as ``bench/faults.py`` does) and two
gunicorn servers with the same settings (2 sync workers): Buyflow (``create_app``) on a
fresh SQLite database (or BUYFLOW_BENCH_DATABASE_URL, emptied first), with a seller and a
product, and the bare app of this file, its one table in a database of the same kind
(its own SQLite file, or a table of its own in the same PostgreSQL database). Then, in
interleaved rounds of the same duration, 8 threads (a ``requests.Session`` each) keep
each server busy:

- **ours**: GET the flow page (``/flow/?seller&product&origin``), read the flow token
  from its page data, then POST ``/flow/api/checkout`` with it and a fresh email (a new
  buyer each time: the order, the buyer, its customer and the PaymentIntent at the
  provider); one page + checkout pair counts once, when both answered as a buyer's page
  expects;
- **bare**: POST a row, which the app inserts and commits.

Prints each round's rates and ratio, and the medians' ratio (pairs per second ÷ requests
per second) with the rounds' ratios' range and median.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from support import (  # noqa: E402
    bare_app,
    database_url,
    seed_shop,
    start_gunicorn,
    start_localstripe,
    stop,
)

ORIGIN = "https://shop.bench.example"
CONCURRENCY = 8
WORKERS = 2
_FLOW_DATA = re.compile(r'<script type="application/json" id="flow-data">(.*?)</script>', re.S)


def _options(chdir: Path, target: str) -> list[str]:
    """The same gunicorn settings for both sides (sync workers)."""
    return ["--workers", str(WORKERS), "--chdir", str(chdir), "--log-level", "warning", target]


def checkout_pair(session: requests.Session, url: str, shop: dict) -> None:
    """The flow page, then Pay with a fresh email, as the buyer's browser does."""
    page = session.get(f"{url}/flow/", params={"seller": shop["seller"],
                                               "product": shop["product"], "origin": ORIGIN},
                       timeout=30)
    page.raise_for_status()
    data = json.loads(_FLOW_DATA.search(page.text).group(1))
    answer = session.post(url + data["urls"]["checkout"], timeout=30, json={
        "flow": data["flow"], "email": f"buyer-{uuid.uuid4().hex}@bench.example"})
    answer.raise_for_status()
    if answer.json().get("status") != "pending" or not answer.json().get("client_secret"):
        raise RuntimeError(f"checkout answered {answer.text[:200]}")


def bare_insert(session: requests.Session, url: str) -> None:
    answer = session.post(f"{url}/rows", timeout=30,
                          json={"email": f"buyer-{uuid.uuid4().hex}@bench.example"})
    answer.raise_for_status()


def load(iteration, seconds: float) -> tuple[float, int]:
    """``iteration(session)`` run by CONCURRENCY threads for ``seconds``: completed
    iterations per second (until the last thread finished its last one), and errors."""
    done, errors = [0] * CONCURRENCY, [0] * CONCURRENCY
    start = time.perf_counter()
    deadline = start + seconds

    def worker(i: int) -> None:
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                try:
                    iteration(session)
                    done[i] += 1
                except (requests.RequestException, RuntimeError, AttributeError) as exc:
                    if not errors[i]:
                        print(f"  error: {exc}", file=sys.stderr)
                    errors[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - start), sum(errors)


def bare_database_url(folder: str, url: str) -> str:
    return url if url.startswith("postgresql") else f"sqlite:///{folder}/bare.sqlite"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=5)
    parser.add_argument("seconds", type=float, nargs="?", default=8.0,
                        help="how long each side is loaded in each round")
    args = parser.parse_args()

    localstripe, stripe_url = start_localstripe()
    servers = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = database_url(folder)
            shop = seed_shop(folder, url, stripe_url, ORIGIN)
            log = Path(folder) / "gunicorn.log"
            ours = start_gunicorn(_options(ROOT, f"buyflow:create_app(instance_path={folder!r})"),
                                  shop["env"], log)
            servers.append(ours[0])
            bare_url = bare_database_url(folder, url)
            bare_app(bare_url, create_table=True)
            bare = start_gunicorn(_options(BENCH, f"support:bare_app({bare_url!r})"),
                                  {}, log)
            servers.append(bare[0])
            run_ours = lambda s: checkout_pair(s, ours[1], shop)  # noqa: E731
            run_bare = lambda s: bare_insert(s, bare[1])  # noqa: E731
            load(run_ours, 1)  # warm-up: connections, first requests of each worker
            load(run_bare, 1)
            rates = {"ours": [], "bare": []}
            for r in range(args.rounds):
                ours_rate, ours_errors = load(run_ours, args.seconds)
                bare_rate, bare_errors = load(run_bare, args.seconds)
                rates["ours"].append(ours_rate)
                rates["bare"].append(bare_rate)
                print(f"round {r + 1}: flow page + checkout {ours_rate:6.1f} pairs/s"
                      f"{f' ({ours_errors} errors)' if ours_errors else ''}   "
                      f"bare insert {bare_rate:6.1f} req/s"
                      f"{f' ({bare_errors} errors)' if bare_errors else ''}   "
                      f"ratio {ours_rate / bare_rate:.2f}")
            for process in servers:
                stop(process)
            servers.clear()
    finally:
        for process in servers:
            stop(process)
        localstripe.terminate()
        localstripe.wait(10)

    where = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    ours_median, bare_median = statistics.median(rates["ours"]), statistics.median(rates["bare"])
    # Each round's ratio compares two windows next to each other: their spread says how
    # much the machine's speed moved during the run.
    ratios = [ours / bare for ours, bare in zip(rates["ours"], rates["bare"])]
    print(f"gunicorn {WORKERS} workers, concurrency {CONCURRENCY}, {where}: "
          f"flow page + checkout {ours_median:.1f} pairs/s; bare Flask-SQLAlchemy insert "
          f"{bare_median:.1f} req/s; ratio {ours_median / bare_median:.2f} (target >= 0.33; "
          f"the rounds' ratios {min(ratios):.2f} to {max(ratios):.2f}, "
          f"median {statistics.median(ratios):.2f})")


if __name__ == "__main__":
    main()
