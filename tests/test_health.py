"""/healthz and /readyz (buyflow/health.py): open to anyone, never cached, no cookie, no
rate limit; readiness names each check and answers 503 when one fails."""

from __future__ import annotations

import socket

import pytest
from flask_limiter import Limit

from buyflow.extensions import limiter
from tests.conftest import free_port
from tests.test_security import app_with

def assert_open_and_uncached(response):
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert response.mimetype == "application/json"


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert_open_and_uncached(response)


def test_readyz_names_each_check_and_is_ready_when_all_answer(app, tmp_path):
    # A generous timeout: a busy test machine is not what this is about.
    response = app_with(app, tmp_path, READINESS_TIMEOUT=10).test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert_open_and_uncached(response)
    assert response.json["status"] == "ready"
    checks = response.json["checks"]
    assert set(checks) == {"database", "queue", "provider"}
    assert all(check["ok"] for check in checks.values())
    assert isinstance(checks["queue"]["pending"], int)


def _failed(app, tmp_path, failing: str, **settings) -> dict:
    """``failing``'s result in a 503 from an app with ``settings``; the other checks
    pass, given a generous timeout (one ``settings`` shorten may be missed by them too
    on a busy machine)."""
    response = app_with(app, tmp_path, **{"READINESS_TIMEOUT": 10, **settings}
                        ).test_client().get("/readyz")
    assert response.status_code == 503
    assert_open_and_uncached(response)
    assert response.json["status"] == "unready"
    checks = response.json["checks"]
    failed = {name for name, check in checks.items() if not check["ok"]}
    assert failed == {failing} or (failing in failed and settings.get("READINESS_TIMEOUT"))
    return checks[failing]


def test_a_database_that_cannot_be_reached_makes_it_unready(app, tmp_path):
    check = _failed(app, tmp_path, "database",
                    SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/folder/db.sqlite")
    assert check["error"] == "OperationalError"  # its kind only: no path, no host


def test_a_provider_that_cannot_be_reached_makes_it_unready(app, tmp_path):
    check = _failed(app, tmp_path, "provider",
                    STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}")
    assert check["error"] == "ConnectionError"


def test_a_queue_that_cannot_be_reached_makes_it_unready(app, tmp_path):
    # The limiter is one object for every app of the run: keep its storage working.
    check = _failed(app, tmp_path, "queue", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
                    RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"])
    assert check["error"] == "ConnectionError"


def test_a_check_that_hangs_fails_at_the_timeout(app, tmp_path):
    """A provider that accepts the connection and never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        check = _failed(app, tmp_path, "provider", READINESS_TIMEOUT=0.5,
                        STRIPE_API_BASE=f"http://127.0.0.1:{silent.getsockname()[1]}")
    assert check["error"] in ("no answer within 0.5 s", "ReadTimeout")


def test_no_provider_configured_is_not_ready(app, tmp_path):
    check = _failed(app, tmp_path, "provider", STRIPE_SECRET_KEY=None)
    assert check["error"] == "RuntimeError"


@pytest.fixture
def default_limit():
    """A default limit of two requests a minute on every route, for this test only (the
    limiter is one object for every app of the run)."""
    saved = limiter.limit_manager._default_limits
    limiter.limit_manager.set_default_limits([Limit("2 per minute").bind(limiter)])
    yield
    limiter.limit_manager.set_default_limits(saved)


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_they_are_never_rate_limited(client, default_limit, path):
    assert [client.get("/api/v1/openapi.json").status_code for _ in range(3)][-1] == 429
    assert {client.get(path).status_code for _ in range(5)} == {200}
