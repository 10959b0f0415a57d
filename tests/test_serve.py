"""The production server's settings (``flask --app wsgi serve``): a worker timeout that
outlasts every provider call, request lines long enough for signed purchase requests,
forwarded headers believed from trusted proxies only; and the real server, started."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from buyflow import PROJECT_ROOT
from buyflow.config import DefaultConfig
from buyflow.models.encrypted import new_key
from buyflow.serve import (
    REQUEST_LINE_LIMIT,
    ServeRefused,
    TrustedProxies,
    longest_provider_call,
    serve_settings,
)
from tests.conftest import free_port, wait_for_port


def config(**changes) -> dict:
    defaults = {key: getattr(DefaultConfig, key) for key in dir(DefaultConfig) if key.isupper()}
    return {**defaults, **changes}


def test_the_default_worker_timeout_outlasts_the_longest_provider_call_within_its_lease():
    settings = serve_settings(config())
    # Three tries of 3 + 10 s and the SDK's 0.5 + 1 s of backoff.
    assert longest_provider_call(config()) == 40.5
    assert settings.timeout == 61
    assert 40.5 < settings.timeout <= DefaultConfig.MONEY_CALL_LEASE_SECONDS
    options = settings.gunicorn_options()
    assert options["graceful_timeout"] == options["timeout"] == 61
    assert options["worker_class"] == "sync"
    assert options["limit_request_line"] == REQUEST_LINE_LIMIT == 8190


def test_the_timeout_follows_the_provider_settings():
    slower = config(STRIPE_READ_TIMEOUT=20, STRIPE_MAX_NETWORK_RETRIES=1,
                    MONEY_CALL_LEASE_SECONDS=120)
    assert longest_provider_call(slower) == 2 * 23 + 0.5
    assert serve_settings(slower).timeout == 70


@pytest.mark.parametrize("changes, named", [
    ({"SERVE_TIMEOUT": 30}, "longer than the longest provider call"),
    ({"SERVE_TIMEOUT": 40}, "longer than the longest provider call"),
    ({"SERVE_TIMEOUT": 100}, "MONEY_CALL_LEASE_SECONDS"),
    ({"STRIPE_READ_TIMEOUT": 30}, "MONEY_CALL_LEASE_SECONDS"),
    ({"SERVE_FORWARDED_ALLOW_IPS": "10.0.0.0/8,proxy.internal"}, "proxy.internal"),
])
def test_an_unsafe_configuration_refuses_to_start(changes, named):
    with pytest.raises(ServeRefused, match=named):
        serve_settings(config(**changes))


def test_the_command_line_overrides_bind_and_workers():
    settings = serve_settings(config(SERVE_WORKERS=3), bind="0.0.0.0:9000", workers=7)
    assert (settings.bind, settings.workers) == ("0.0.0.0:9000", 7)
    assert serve_settings(config(SERVE_WORKERS=3)).workers == 3
    assert serve_settings(config()).workers >= 3  # 2 x CPUs + 1


def _client_address(allowed: list[str], peer: str, forwarded: str | None) -> str:
    seen = {}

    def app(environ, start_response):
        seen["address"] = environ["REMOTE_ADDR"]
        start_response("200 OK", [])
        return [b""]

    environ = {"REMOTE_ADDR": peer, "REQUEST_METHOD": "GET", "PATH_INFO": "/",
               "wsgi.url_scheme": "http", "SERVER_NAME": "x", "SERVER_PORT": "80"}
    if forwarded:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    TrustedProxies(app, allowed)(environ, lambda *args: None)
    return seen["address"]


def test_the_client_address_comes_from_a_trusted_proxy_only():
    trusted = ["10.0.0.0/8", "127.0.0.1"]
    # The load balancer's header names the client it saw (the last address).
    assert _client_address(trusted, "10.1.2.3", "198.51.100.7, 203.0.113.9") == "203.0.113.9"
    # Anyone else's header is ignored: a client cannot pick its rate-limit bucket.
    assert _client_address(trusted, "203.0.113.50", "127.0.0.1") == "203.0.113.50"
    assert _client_address(trusted, "10.1.2.3", None) == "10.1.2.3"
    assert _client_address(["*"], "192.0.2.1", "203.0.113.9") == "203.0.113.9"
    # A Unix socket (no peer address) is reached by local processes only.
    assert _client_address(trusted, "", "203.0.113.9") == "203.0.113.9"


def test_the_server_runs_and_takes_a_6_kb_request_line(tmp_path):
    """The real gunicorn, on SQLite: up, answering with the request id in its access log,
    a 6 KB request line taken (gunicorn's default limit, 4094, refuses it)."""
    port = free_port()
    env = {**os.environ,
           "BUYFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'buyflow.sqlite'}",
           "BUYFLOW_TASKS_SQLITE_PATH": str(tmp_path / "huey.sqlite"),
           "BUYFLOW_SECRET_KEY": "serve-test", "BUYFLOW_SECRETS_KEYS": new_key(),
           "BUYFLOW_MAIL_FILE_PATH": str(tmp_path / "mail"), "BUYFLOW_REDIS_URL": ""}
    env.pop("BUYFLOW_TEST_DATABASE_URL", None)
    log = tmp_path / "access.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--bind",
             f"127.0.0.1:{port}", "--workers", "1"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=30)
        padding = "x" * (6 * 1024)
        answer = requests.get(f"http://127.0.0.1:{port}/healthz?pad={padding}", timeout=10,
                              headers={"X-Request-Id": "serve-test-0001"})
        assert answer.status_code == 200
        assert answer.headers["X-Request-Id"] == "serve-test-0001"
        too_long = requests.get(f"http://127.0.0.1:{port}/healthz?pad={padding * 2}",
                                timeout=10)
        assert too_long.status_code == 414
    finally:
        server.terminate()
        server.wait(30)
    logged = log.read_text()
    assert 'GET /healthz HTTP/1.1" 200' in logged and "request_id=serve-test-0001" in logged
    assert padding not in logged  # no query strings in the access log


def test_serve_refuses_to_start_with_a_short_timeout(tmp_path):
    env = {**os.environ, "BUYFLOW_SERVE_TIMEOUT": "30",
           "BUYFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'buyflow.sqlite'}",
           "BUYFLOW_TASKS_SQLITE_PATH": str(tmp_path / "huey.sqlite"),
           "BUYFLOW_SECRET_KEY": "serve-test", "BUYFLOW_SECRETS_KEYS": new_key(),
           "BUYFLOW_REDIS_URL": ""}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "serve"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "must be longer than the longest provider call (40.5 s" in done.stderr
