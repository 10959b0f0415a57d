"""Prometheus metrics at /metrics: what an operator's scraper reads, and who may read it."""

import os
import subprocess
import sys
import textwrap

import pytest
from prometheus_client.parser import text_string_to_metric_families

from buyflow import PROJECT_ROOT, create_app
from buyflow.events import announce
from buyflow.extensions import db
from buyflow.metrics import count_webhook_delivery
from buyflow.models import Payment

TOKEN = "metrics-test-token"


def samples(text: str) -> dict:
    """Every sample of a scrape, by name and sorted labels."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


@pytest.fixture
def scrape(app, client, monkeypatch):
    """Scrape the suite's app with its token (set for the test); the samples."""
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)

    def scrape_() -> dict:
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200
        assert answer.mimetype == "text/plain"  # Prometheus's text format
        return samples(answer.text)

    return scrape_


def requests_of(scraped: dict, endpoint: str, method: str, status: str) -> float:
    labels = (("endpoint", endpoint), ("method", method), ("status", status))
    return scraped.get(("buyflow_http_requests_total", labels), 0)


def payments_of(scraped: dict, provider: str, outcome: str) -> float:
    labels = (("outcome", outcome), ("provider", provider))
    return scraped.get(("buyflow_payments_total", labels), 0)


def test_a_request_is_counted_and_timed(client, scrape):
    before = scrape()
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    after = scrape()
    assert requests_of(after, "health.healthz", "GET", "200") == (
        requests_of(before, "health.healthz", "GET", "200") + 1)
    assert requests_of(after, "none", "GET", "404") == requests_of(before, "none", "GET", "404") + 1
    timed = (("endpoint", "health.healthz"), ("method", "GET"))
    assert after[("buyflow_http_request_duration_seconds_count", timed)] == (
        before.get(("buyflow_http_request_duration_seconds_count", timed), 0) + 1)


def test_a_request_refused_before_any_view_is_counted(client, scrape):
    before = scrape()
    assert client.get("/healthz", query_string={"q": "\x00"}).status_code == 400
    after = scrape()
    assert requests_of(after, "health.healthz", "GET", "400") == (
        requests_of(before, "health.healthz", "GET", "400") + 1)


def test_paid_and_declined_checkouts_count_their_payments(product, buy, scrape):
    before = scrape()
    assert buy(product.seller, product).json["status"] == "paid"
    declined = buy(product.seller, product, "4000000000000341", email="bob@example.com")
    assert declined.json["error"]["code"] == "card_declined"
    after = scrape()
    assert payments_of(after, "stripe", "succeeded") == payments_of(before, "stripe", "succeeded") + 1
    assert payments_of(after, "stripe", "failed") == payments_of(before, "stripe", "failed") + 1


def test_a_payment_outcome_rolled_back_counts_nothing(product, buy, scrape):
    assert buy(product.seller, product).json["status"] == "paid"
    counted = payments_of(scrape(), "stripe", "succeeded")
    payment = db.session.scalar(db.select(Payment))
    announce("payment.succeeded", order=payment.order, payment=payment)
    db.session.rollback()
    assert payments_of(scrape(), "stripe", "succeeded") == counted


def test_queue_depth_and_webhook_deliveries(app, scrape):
    count_webhook_delivery(app, "delivered")
    scraped = scrape()
    assert scraped[("buyflow_task_queue_up", ())] == 1
    assert scraped[("buyflow_task_queue_pending", ())] >= 0
    assert scraped[("buyflow_webhook_deliveries_total", (("outcome", "delivered"),))] >= 1


def test_webhooks_the_worker_posts_are_counted_by_outcome(product, buy, endpoint_secret,
                                                         receiver, run_queue, scrape):
    delivered = (("outcome", "delivered"),)
    retried = (("outcome", "pending"),)
    before = scrape()
    receiver.answers = [500]  # the first delivery is answered 500: a retry is scheduled
    assert buy(product.seller, product).json["status"] == "paid"
    run_queue()
    posted = len(receiver.requests)
    after = scrape()
    assert posted >= 2
    assert after.get(("buyflow_webhook_deliveries_total", retried), 0) == (
        before.get(("buyflow_webhook_deliveries_total", retried), 0) + 1)
    assert after[("buyflow_webhook_deliveries_total", delivered)] == (
        before.get(("buyflow_webhook_deliveries_total", delivered), 0) + posted - 1)


def test_scrapes_without_the_token_are_refused(app, client, scrape):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert "buyflow_" not in wrong.text


def test_nobody_may_scrape_unless_configured(client):
    # The suite's app sets no token and no network: its metrics are nobody's to read.
    assert client.get("/metrics").status_code == 403


def _small_app(tmp_path, **config):
    return create_app(instance_path=str(tmp_path), test_config={
        "TESTING": True, "SECRET_KEY": "metrics", **config})


def test_an_allowed_network_may_scrape_without_a_token(tmp_path):
    allowed = _small_app(tmp_path / "a", METRICS_ALLOWED_NETWORKS="10.0.0.0/8,127.0.0.1")
    assert allowed.test_client().get("/metrics").status_code == 200
    other = allowed.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 403


def test_metrics_can_be_turned_off(tmp_path):
    off = _small_app(tmp_path, METRICS_ENABLED=False, METRICS_TOKEN=TOKEN)
    answer = off.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 404


_SERVE_TWICE = textwrap.dedent("""
    import sys
    from buyflow import create_app

    app = create_app(instance_path=sys.argv[1], test_config={
        "TESTING": True, "SECRET_KEY": "metrics", "METRICS_TOKEN": "t"})
    client = app.test_client()
    client.get("/healthz")
    client.get("/healthz")
    if sys.argv[2] == "scrape":
        print(client.get("/metrics", headers={"Authorization": "Bearer t"}).text)
""")


def test_several_processes_add_up_in_multiprocess_mode(tmp_path):
    """As gunicorn's workers would: with PROMETHEUS_MULTIPROC_DIR, one process's scrape
    shows what another counted."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}

    def run(what: str) -> str:
        return subprocess.run([sys.executable, "-c", _SERVE_TWICE, str(tmp_path), what],
                              env=env, cwd=PROJECT_ROOT, check=True, capture_output=True,
                              text=True).stdout

    run("count")
    scraped = samples(run("scrape"))
    assert requests_of(scraped, "health.healthz", "GET", "200") == 4
    assert scraped[("buyflow_task_queue_up", ())] == 1
