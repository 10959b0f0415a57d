"""A cluster as docs/deployment.md describes it, really started: two app servers
(``flask --app wsgi serve``) and two task workers (``flask --app wsgi worker``), every one
with the same environment, on one PostgreSQL database and one Redis, the suite's
localstripe as the provider (its webhooks sent to both servers), a seller's webhook
receiver and the suite's SMTP mailbox.

Only where the suite runs on PostgreSQL and Redis (CI's second pass): the cluster gets a
database of its own (``<test database>_multi``, made by ``flask db upgrade``, dropped
after), since the suite's fixtures own the test database. It shares the suite's Redis
database, so the task queue is flushed before the workers start and after they stop.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from buyflow import PROJECT_ROOT, create_app
from buyflow.extensions import db
from buyflow.models.encrypted import new_key
from buyflow.tasks import get_tasks
from tests.conftest import STRIPE_WEBHOOK_SECRET, Receiver, free_port, wait_for_port

TEST_DATABASE_URL = os.environ.get("BUYFLOW_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("BUYFLOW_REDIS_URL", "")
SELLER_ORIGIN = "http://localhost:5999"

CLUSTER_POSSIBLE = TEST_DATABASE_URL.startswith("postgresql") and bool(REDIS_URL)
needs_cluster = pytest.mark.skipif(
    not CLUSTER_POSSIBLE,
    reason="a cluster needs BUYFLOW_TEST_DATABASE_URL on PostgreSQL and BUYFLOW_REDIS_URL")


def _admin_connection(url):
    import psycopg

    admin = url.set(drivername="postgresql", database="postgres")
    return psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True)


@pytest.fixture(scope="module")
def cluster_database_url():
    """A database of the cluster's own beside the suite's, dropped afterwards."""
    if not CLUSTER_POSSIBLE:
        pytest.skip("a cluster needs BUYFLOW_TEST_DATABASE_URL on PostgreSQL and "
                    "BUYFLOW_REDIS_URL")
    url = make_url(TEST_DATABASE_URL)
    url = url.set(database=f"{url.database}_multi")
    with _admin_connection(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{url.database}"')
    yield url.render_as_string(hide_password=False)
    with _admin_connection(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


@dataclass
class Cluster:
    """What the test talks to, and reads back."""

    servers: list[str]
    env: dict[str, str]
    receiver: Receiver
    seller_id: str
    api_key: str
    signing_secret: str
    product_id: str
    logs: Path
    inspect: object = field(repr=False)  # an app on the cluster's database, to read it

    def server_log(self, index: int) -> str:
        """What app server ``index`` wrote to stdout: its access log."""
        return (self.logs / f"server-{index}.out").read_text()

    def worker_log(self, index: int) -> str:
        return (self.logs / f"worker-{index}.log").read_text()


def flask(env: dict, *args: str) -> str:
    """Run ``flask --app wsgi ARGS`` as an operator would; its output."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _printed(output: str, label: str) -> str:
    return re.search(rf"^{label}:\s+(\S+)", output, re.M).group(1)


def _register_provider_webhook(localstripe_url: str, hook: str, server: str,
                               events: list[str] | None = None) -> None:
    body = {"url": f"{server}/webhooks/stripe", "secret": STRIPE_WEBHOOK_SECRET}
    if events is not None:
        body["events"] = events
    requests.post(f"{localstripe_url}/_config/webhooks/{hook}", json=body,
                  timeout=10).raise_for_status()


@pytest.fixture(scope="module")
def cluster(cluster_database_url, localstripe_url, mailbox, tmp_path_factory):
    """Two app servers and two task workers, running, with a seller whose webhooks go to
    a receiver and one 14.50 EUR product."""
    logs = tmp_path_factory.mktemp("cluster")
    ports = [free_port(), free_port()]
    servers = [f"http://127.0.0.1:{port}" for port in ports]
    env = {
        **os.environ,
        # What must be the same on every node (docs/deployment.md).
        "BUYFLOW_SECRET_KEY": "cluster-secret-key",
        "BUYFLOW_SECRETS_KEYS": new_key(),
        "BUYFLOW_DATABASE_URL": cluster_database_url,
        "BUYFLOW_REDIS_URL": REDIS_URL,
        "BUYFLOW_PUBLIC_URL": servers[0],
        "BUYFLOW_STRIPE_SECRET_KEY": "sk_test_suite",
        "BUYFLOW_STRIPE_PUBLISHABLE_KEY": "pk_test_suite",
        "BUYFLOW_STRIPE_API_BASE": localstripe_url,
        "BUYFLOW_STRIPE_JS_URL": f"{localstripe_url}/js.stripe.com/v3/",
        "BUYFLOW_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "BUYFLOW_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "BUYFLOW_MAIL_BACKEND": "smtp",
        "BUYFLOW_MAIL_SERVER": "127.0.0.1",
        "BUYFLOW_MAIL_PORT": str(mailbox.port),
        # Reconciliation every minute: it runs in both workers while the test buys.
        "BUYFLOW_RECONCILE_EVERY_MINUTES": "1",
        # JSON log lines, with the tasks' "Executing ..." of each worker.
        "BUYFLOW_LOG_FORMAT": "json",
    }
    env.pop("BUYFLOW_TEST_DATABASE_URL", None)
    flask(env, "db", "upgrade")
    receiver = Receiver()
    created = flask(env, "sellers", "create", "--name", "Cluster Coffee", "--origin",
                    SELLER_ORIGIN, "--webhook-url", receiver.url)
    seller_id = _printed(created, r"seller id \(publishable\)")
    product_id = flask(env, "products", "create", "--seller", seller_id, "--name", "Beans",
                       "--amount", "1450", "--currency", "EUR").strip()

    # An app on the cluster's database and queue, for the test to read them with.
    inspect = create_app(instance_path=str(logs / "instance"), test_config={
        "DATABASE_URL": cluster_database_url, "REDIS_URL": REDIS_URL,
        "SECRET_KEY": env["BUYFLOW_SECRET_KEY"], "SECRETS_KEYS": env["BUYFLOW_SECRETS_KEYS"]})
    with inspect.app_context():
        queue = get_tasks().huey
    hooks = [f"cluster-{uuid.uuid4().hex[:8]}-{n}" for n in range(2)]
    processes = []
    queue.flush()  # the suite's tasks left in the Redis they share (and at the end, ours)
    try:
        for index, port in enumerate(ports):
            with open(logs / f"server-{index}.out", "w") as out, \
                    open(logs / f"server-{index}.err", "w") as err:
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--bind",
                     f"127.0.0.1:{port}", "--workers", "2"],
                    cwd=PROJECT_ROOT, env=env, stdout=out, stderr=err))
        for index in range(2):
            with open(logs / f"worker-{index}.log", "w") as out:
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers",
                     "2"], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
        for port in ports:
            wait_for_port(port, timeout=30)
        # The provider sends every event to both servers, as if two load balancer
        # targets each got a copy.
        for hook, server in zip(hooks, servers, strict=True):
            _register_provider_webhook(localstripe_url, hook, server)
        yield Cluster(servers=servers, env=env, receiver=receiver, seller_id=seller_id,
                      api_key=_printed(created, "secret API key"),
                      signing_secret=_printed(created, "signing secret"),
                      product_id=product_id, logs=logs, inspect=inspect)
    finally:
        for hook, server in zip(hooks, servers, strict=True):
            # Registrations cannot be deleted: leave them listening to nothing.
            _register_provider_webhook(localstripe_url, hook, server, events=["buyflow.none"])
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        queue.flush()
        receiver.server.shutdown()
        with inspect.app_context():
            for engine in db.engines.values():
                engine.dispose()


def wait_until(condition, timeout: float, interval: float = 0.2) -> bool:
    """Whether ``condition()`` came true within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
