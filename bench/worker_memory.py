"""One web worker's memory after warm-up, against a bare Flask + Flask-SQLAlchemy app's
under the same gunicorn settings in the same production install (target: at most 1.8
times it).

    .venv/bin/python bench/worker_memory.py            # 40 warm-up rounds
    .venv/bin/python bench/worker_memory.py 10
    BUYFLOW_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        BUYFLOW_BENCH_REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/worker_memory.py

Both servers run in a production install, not in the test ``.venv``: what ``pip install
.`` installs (pyproject.toml's dependencies; with BUYFLOW_BENCH_DATABASE_URL, also the
``postgres`` and ``redis`` extras), without the dev and test extras: libraries import
some of their packages whenever installed (the stripe SDK imports aiohttp, which
localstripe brings; huey's storage module psycopg and redis). The install is a
virtual environment in ``.venv-bench/<name>/``, made by the first run (``python -m
venv``, then ``pip install``: a minute or so, PyPI needed) and reused while
pyproject.toml is not newer; the code served is this tree's (gunicorn's
``--pythonpath``), so the environment holds the dependencies only. localstripe, the
schema (migrations) and the seed run from the test ``.venv``, in processes of their own.

Starts localstripe (with Buyflow's development shim) and two gunicorn servers with the
same settings (one sync worker, the app built in the worker): Buyflow
(``create_app``) on a fresh database (SQLite, or BUYFLOW_BENCH_DATABASE_URL, emptied
first; Redis for its queue and limits with BUYFLOW_BENCH_REDIS_URL) with a seller, its
API key and a product, and the bare app of this file (one table, in its own SQLite file
or the same PostgreSQL database). Then, interleaved, each round sends each server the
same number of requests:

- **ours**: the flow page, Pay (``/flow/api/checkout``), the card confirmed at the
  provider as the browser does, ``/flow/api/refresh`` (the order is paid: the receipt
  and webhooks are queued, not made, since no task worker runs), the seller API's order
  list and the order, and a ``/metrics`` scrape;
- **bare**: as many requests, each inserting a row or reading one.

Prints each worker's resident memory (``VmRSS`` of ``/proc/<pid>/status``; the target is
on it) with its anonymous and file-backed parts, the ratios, and which heavy native
libraries Buyflow's worker has mapped (receipts' PDF, image and shaping libraries and
cryptography's OpenSSL must be absent, and in the production install so are aiohttp,
psycopg and hiredis on SQLite). This module imports only the standard library at the top: the bare worker
imports it to build its app.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import uuid
from pathlib import Path

from support import database_url, seed_shop, start_gunicorn, start_localstripe, stop  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
ORIGIN = "https://shop.bench.example"
API_KEY = "sk_test_bench_memory"
METRICS_TOKEN = "bench-metrics-token"
REQUESTS_PER_ROUND = 7
# One sync worker, as `flask serve` runs them (buyflow/serve.py), the app built in it.
GUNICORN = ["--workers", "1", "--worker-class", "sync", "--log-level", "warning"]
# Shared objects whose presence in a worker's memory map names a library it loaded.
NATIVE_MARKERS = {"Pillow": "/PIL/", "uharfbuzz": "/uharfbuzz/", "aiohttp": "/aiohttp/",
                  "psycopg": "psycopg_binary", "redis (hiredis)": "hiredis",
                  "cryptography (OpenSSL)": "/cryptography/hazmat/bindings/"}
# The production installs: a name (the folder under .venv-bench/) and pyproject's extras.
INSTALLS = {"embedded": (), "postgres-redis": ("postgres", "redis")}
_FLOW_DATA = re.compile(r'<script type="application/json" id="flow-data">(.*?)</script>', re.S)


def production_python(name: str) -> Path:
    """The interpreter of the production install ``name`` (INSTALLS): made in
    ``.venv-bench/<name>/`` with pyproject.toml's dependencies and that install's extras
    when missing or older than pyproject.toml, else reused."""
    folder = ROOT / ".venv-bench" / name
    python, made = folder / "bin" / "python", folder / "installed"
    pyproject = ROOT / "pyproject.toml"
    if made.exists() and made.stat().st_mtime >= pyproject.stat().st_mtime:
        return python
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in INSTALLS[name]:
        requirements += project["optional-dependencies"][extra]
    print(f"making the production install {folder} (once) ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", *requirements], check=True)
    made.write_text("\n".join(requirements) + "\n")
    return python


def _options(target: str) -> list[str]:
    """The same gunicorn settings for both sides; the served code is this tree's."""
    return [*GUNICORN, "--chdir", str(BENCH), "--pythonpath", str(ROOT), target]


def worker_pid(master: subprocess.Popen) -> int:
    """The one worker of a gunicorn master."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"gunicorn {master.pid} has workers {children}, not one")
    return int(children[0])


def memory_mib(pid: int) -> dict[str, float]:
    """``pid``'s resident memory in MiB (``VmRSS``) and its parts: ``RssAnon``, the
    process's own (objects, caches), and ``RssFile``, pages of the files it maps (the
    shared libraries' code, shared with every process that maps them)."""
    fields = dict(line.split(":", 1)
                  for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {name: int(fields[name].split()[0]) / 1024
            for name in ("VmRSS", "RssAnon", "RssFile")}


def native_libraries(pid: int) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name, marker in NATIVE_MARKERS.items() if marker in maps]


def ours_round(session, url: str, stripe_url: str, shop: dict) -> None:
    """A buyer's purchase, the seller reading it back, a scrape: REQUESTS_PER_ROUND
    requests to the server (and one to the provider, as the browser makes it)."""
    page = session.get(f"{url}/flow/", timeout=30, params={
        "seller": shop["seller"], "product": shop["product"], "origin": ORIGIN})
    page.raise_for_status()
    data = json.loads(_FLOW_DATA.search(page.text).group(1))
    opened = session.post(url + data["urls"]["checkout"], timeout=30, json={
        "flow": data["flow"], "email": f"buyer-{uuid.uuid4().hex}@bench.example"})
    opened.raise_for_status()
    secret = opened.json()["client_secret"]
    intent = secret.split("_secret_")[0]
    session.post(f"{stripe_url}/v1/payment_intents/{intent}/confirm", timeout=30, json={
        "key": "pk_test_bench", "client_secret": secret,
        "payment_method_data": {"type": "card", "card": {
            "number": "4242424242424242", "exp_month": "12", "exp_year": "2034",
            "cvc": "123"}}}).raise_for_status()
    paid = session.post(url + data["urls"]["refresh"], timeout=30, json={
        "flow": data["flow"], "payment": opened.json()["payment"]})
    paid.raise_for_status()
    if paid.json().get("status") != "paid":
        raise SystemExit(f"the checkout ended {paid.text[:300]}")
    api = {"Authorization": f"Bearer {API_KEY}"}
    orders = session.get(f"{url}/api/v1/orders", headers=api, timeout=30)
    orders.raise_for_status()
    order_id = orders.json()["data"][0]["id"]
    session.get(f"{url}/api/v1/orders/{order_id}", headers=api, timeout=30).raise_for_status()
    session.get(f"{url}/metrics", timeout=30,
                headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).raise_for_status()


def bare_round(session, url: str) -> None:
    """REQUESTS_PER_ROUND requests: inserts, each but the last followed by its read."""
    for i in range(REQUESTS_PER_ROUND):
        if i % 2 == 0:
            answer = session.post(f"{url}/rows", timeout=30,
                                  json={"email": f"buyer-{uuid.uuid4().hex}@bench.example"})
            row_id = answer.json()["id"]
        else:
            answer = session.get(f"{url}/rows/{row_id}", timeout=30)
        answer.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=40,
                        help="warm-up rounds (each: %d requests to each server)"
                             % REQUESTS_PER_ROUND)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import requests

    install = "postgres-redis" if os.environ.get("BUYFLOW_BENCH_DATABASE_URL") else "embedded"
    python = production_python(install)
    redis_url = os.environ.get("BUYFLOW_BENCH_REDIS_URL")
    with tempfile.TemporaryDirectory() as folder:
        logs = Path(folder)
        stripe, stripe_url = start_localstripe(logs / "localstripe.log")
        servers = []
        try:
            url = database_url(folder)
            more = {"REDIS_URL": redis_url} if redis_url else {}
            shop = seed_shop(folder, url, stripe_url, ORIGIN, api_key=API_KEY,
                             METRICS_TOKEN=METRICS_TOKEN, **more)
            bare_url = url if url.startswith("postgresql") else f"sqlite:///{folder}/bare.sqlite"
            ours, ours_url = start_gunicorn(
                _options(f"buyflow:create_app(instance_path={folder!r})"), shop["env"],
                logs / "ours.log", python)
            servers.append(ours)
            bare, plain_url = start_gunicorn(
                _options(f"support:bare_app({bare_url!r}, create_table=True)"), {}, logs / "bare.log", python)
            servers.append(bare)
            with requests.Session() as ours_session, requests.Session() as bare_session:
                for _ in range(args.rounds):
                    ours_round(ours_session, ours_url, stripe_url, shop)
                    bare_round(bare_session, plain_url)
            ours_pid, bare_pid = worker_pid(ours), worker_pid(bare)
            ours_mib, bare_mib = memory_mib(ours_pid), memory_mib(bare_pid)
            loaded = native_libraries(ours_pid)
        finally:
            for server in servers:
                stop(server)
            stop(stripe)
    requests_sent = args.rounds * REQUESTS_PER_ROUND
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"after {requests_sent} requests each (gunicorn {' '.join(GUNICORN[:4])}), on "
          f"{database}{' and Redis' if redis_url else ''}, both in the production install "
          f"{python.parent.parent.relative_to(ROOT)} (pyproject's dependencies"
          f"{''.join(f', [{extra}]' for extra in INSTALLS[install])}; no dev or test extras):")
    for name, mib in (("Buyflow worker:", ours_mib), ("bare worker:", bare_mib)):
        print(f"  {name:15s} {mib['VmRSS']:6.1f} MiB (anonymous {mib['RssAnon']:5.1f}, "
              f"mapped files {mib['RssFile']:5.1f})")
    print(f"  ratio: {ours_mib['VmRSS'] / bare_mib['VmRSS']:.2f} (target <= 1.8); "
          f"anonymous only: {ours_mib['RssAnon'] / bare_mib['RssAnon']:.2f}")
    print(f"  heavy native libraries in Buyflow's worker: {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
