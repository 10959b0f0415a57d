"""What several benchmarks start the same way: free ports, localstripe with our shim, a
database to fill, gunicorn serving an app; imported by the bench scripts beside it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_localstripe(log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """localstripe with Buyflow's development shim on a free port (its output to ``log``,
    or nowhere); waits until it listens."""
    port = free_port()
    output = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "buyflow.dev.localstripe_server", "--port", str(port)],
        cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    raise SystemExit("localstripe did not start" + (f":\n{log.read_text()}" if log else ""))


def database_url(folder: str) -> str:
    """BUYFLOW_BENCH_DATABASE_URL emptied, else a SQLite file in ``folder``."""
    url = os.environ.get("BUYFLOW_BENCH_DATABASE_URL")
    if not url:
        return f"sqlite:///{folder}/bench.sqlite"
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()
    return url


def start_gunicorn(args: list[str], env: dict, log: Path,
                   python: str = sys.executable) -> tuple[subprocess.Popen, str]:
    """gunicorn of ``python``'s install with ``args`` (its options and the app), bound to
    a free port; waits until it answers (the workers load the app after the bind)."""
    import requests

    port = free_port()
    process = subprocess.Popen(
        [str(python), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *args],
        env={**os.environ, **env}, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"gunicorn {args[-1]} stopped:\n{log.read_text()}")
        try:
            requests.get(url, timeout=10)
            return process, url
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn {args[-1]} did not answer:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def bare_app(url: str, create_table: bool = False):
    """The other side of the benches that compare with a bare app: Flask +
    Flask-SQLAlchemy, one table; ``POST /rows`` inserts the posted email as a row and
    commits, ``GET /rows/<id>`` reads one (gunicorn builds it: ``support:bare_app(url)``);
    with ``create_table``, its table is made first."""
    from flask import Flask, abort, jsonify, request
    from flask_sqlalchemy import SQLAlchemy

    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    bare_db = SQLAlchemy(app)

    class BenchRow(bare_db.Model):
        __tablename__ = "bench_bare_rows"
        id = bare_db.Column(bare_db.Integer, primary_key=True)
        email = bare_db.Column(bare_db.String(320), nullable=False)

    @app.post("/rows")
    def add_row():
        row = BenchRow(email=request.get_json()["email"])
        bare_db.session.add(row)
        bare_db.session.commit()
        return jsonify(id=row.id)

    @app.get("/rows/<int:row_id>")
    def get_row(row_id: int):
        row = bare_db.session.get(BenchRow, row_id) or abort(404)
        return jsonify(id=row.id, email=row.email)

    if create_table:
        with app.app_context():
            bare_db.create_all()
            bare_db.engine.dispose()
    return app


def seed_shop(folder: str, url: str, stripe_url: str, origin: str, *,
              api_key: str | None = None, **more_settings: str) -> dict:
    """Buyflow's schema (its migrations) in ``url`` and one seller of ``origin`` (with
    ``api_key`` if given) selling one product, against localstripe at ``stripe_url``;
    returns the settings the seeding used, as the BUYFLOW_* variables the served app
    gets (``env``), and the seller's and product's public ids."""
    import contextlib
    import io

    from flask_migrate import upgrade

    from buyflow import create_app
    from buyflow.extensions import db
    from buyflow.models import Product, Seller, SellerApiKey
    from buyflow.models.sellers import hash_api_key

    settings = {
        "SECRET_KEY": "bench", "DATABASE_URL": url,
        "STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
        "STRIPE_API_BASE": stripe_url, "STRIPE_JS_URL": f"{stripe_url}/js.stripe.com/v3/",
        "MAIL_BACKEND": "locmem", "TASKS_SQLITE_PATH": f"{folder}/huey.sqlite",
        "SECRETS_KEYS_FILE": f"{folder}/secrets_keys", **more_settings,
    }
    app = create_app(instance_path=folder, test_config=settings)
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):  # the migrations' log
            upgrade()
        seller = Seller(name="Bench shop", origins=[origin], signing_secrets=["bench"])
        if api_key:
            seller.api_keys.append(SellerApiKey(key_hash=hash_api_key(api_key),
                                                hint=api_key[-4:]))
        product = Product(seller=seller, name="Beans", description="Single-origin beans.",
                          amount=1450, currency="EUR")
        db.session.add_all([seller, product])
        db.session.commit()
        where = {"seller": seller.public_id, "product": product.public_id}
        db.session.remove()
        db.engine.dispose()
    env = {f"BUYFLOW_{name}": value for name, value in settings.items()}
    return {"env": env, **where}
