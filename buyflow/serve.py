"""The production app server: ``flask --app wsgi serve [--bind HOST:PORT] [--workers N]``
runs this app under gunicorn (``gunicorn.app.base.BaseApplication``), its settings taken
from the app's config (``SERVE_*`` in ``buyflow/config.py``).

The settings that matter for money, and why:

- sync workers, each serving one request at a time, so gunicorn's worker ``timeout`` is a
  bound on a request: a worker still busy after it is killed;
- that timeout must be longer than the longest provider call with its retries
  (``longest_provider_call``), so no worker is killed in the middle of moving money, and
  no longer than ``MONEY_CALL_LEASE_SECONDS``, so once a money call's lease is over the
  process that held it is really gone (what recovery takes it to be); the server refuses
  to start otherwise (``ServeRefused``);
- a graceful timeout as long, so a restart lets a request in flight finish its call;
- request lines up to 8190 bytes (gunicorn's maximum; its default, 4094, refuses a
  signed purchase request of a few dozen items in the flow's query string);
- forwarded headers believed only from the proxies in ``SERVE_FORWARDED_ALLOW_IPS``: the
  scheme (``X-Forwarded-Proto``, by gunicorn) and the client's address
  (``X-Forwarded-For``, by ``TrustedProxies``; the per-IP rate limits key on it);
- an access log line per request naming its ``X-Request-Id`` (``buyflow/request_log.py``),
  without the query string (sign-in links and signed requests travel in it).
"""

from __future__ import annotations

import contextvars
import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import click
from flask import Flask, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

# gunicorn's largest allowed request line (its default is 4094).
REQUEST_LINE_LIMIT = 8190
# Method, path (no query string: sign-in links and signed requests travel in it), status,
# bytes, milliseconds, the request id every answer carries.
ACCESS_LOG_FORMAT = ('%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms '
                     'request_id=%({x-request-id}o)s')
# The SDK's backoff between retries (stripe's HTTPClient: 0.5 s doubling, at most 5 s).
_RETRY_DELAY_FIRST, _RETRY_DELAY_MAX = 0.5, 5.0


class ServeRefused(click.ClickException):
    """The configured server would not be safe for the money paths; nothing started."""


@dataclass(frozen=True)
class ServeSettings:
    """What gunicorn is started with."""

    bind: str
    workers: int
    timeout: int
    forwarded_allow_ips: list[str]
    access_log: str | None

    def gunicorn_options(self) -> dict:
        return {
            "bind": self.bind,
            "workers": self.workers,
            "worker_class": "sync",
            "timeout": self.timeout,
            "graceful_timeout": self.timeout,
            "limit_request_line": REQUEST_LINE_LIMIT,
            "forwarded_allow_ips": ",".join(self.forwarded_allow_ips),
            "accesslog": self.access_log,
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            # gunicorn >= 25's runtime control socket, one fixed path per user: two servers
            # on one host would share it, and nothing here needs it.
            "control_socket_disable": True,
        }


def longest_provider_call(config: Mapping) -> float:
    """The most seconds one provider call can last: every try timing out on connect and
    read, plus the SDK's backoff between them (40.5 s with the defaults)."""
    retries = int(config["STRIPE_MAX_NETWORK_RETRIES"])
    per_try = float(config["STRIPE_CONNECT_TIMEOUT"]) + float(config["STRIPE_READ_TIMEOUT"])
    backoff = sum(min(_RETRY_DELAY_FIRST * 2 ** n, _RETRY_DELAY_MAX) for n in range(retries))
    return (retries + 1) * per_try + backoff


def worker_timeout(config: Mapping) -> int:
    """``SERVE_TIMEOUT``, or when None the longest provider call and half as long again
    for the rest of the request (61 s with the defaults). ServeRefused unless it is longer
    than the longest provider call and at most ``MONEY_CALL_LEASE_SECONDS``."""
    longest = longest_provider_call(config)
    lease = config["MONEY_CALL_LEASE_SECONDS"]
    timeout = config["SERVE_TIMEOUT"]
    if timeout is None:
        timeout = math.ceil(longest * 1.5)
    timeout = int(timeout)
    if timeout <= longest:
        raise ServeRefused(
            f"the worker timeout ({timeout} s) must be longer than the longest provider call "
            f"({longest:g} s: STRIPE_CONNECT_TIMEOUT, STRIPE_READ_TIMEOUT and "
            "STRIPE_MAX_NETWORK_RETRIES), or a worker may be killed in the middle of moving "
            "money; raise SERVE_TIMEOUT (docs/deployment.md)")
    if timeout > lease:
        raise ServeRefused(
            f"the worker timeout ({timeout} s) must not be longer than "
            f"MONEY_CALL_LEASE_SECONDS ({lease} s), or a money call's lease may end while its "
            "worker still runs it; lower SERVE_TIMEOUT or raise the lease (docs/deployment.md)")
    return timeout


def default_workers() -> int:
    """Gunicorn's advice for sync workers: two per CPU this process may use, plus one."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 * (cpus or 1) + 1


def trusted_proxies(value: str | list[str]) -> list[str]:
    """``SERVE_FORWARDED_ALLOW_IPS`` as a list (comma separated, or a list): addresses,
    networks in CIDR notation, or ``*`` for any. ServeRefused for anything else."""
    entries = value.split(",") if isinstance(value, str) else list(value)
    entries = [entry.strip() for entry in entries if entry.strip()]
    for entry in entries:
        if entry != "*":
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ServeRefused(f"SERVE_FORWARDED_ALLOW_IPS: {entry!r} is not an "
                                   "address or network") from None
    return entries


def serve_settings(config: Mapping, bind: str | None = None,
                   workers: int | None = None) -> ServeSettings:
    """The server's settings from ``config``, ``bind`` and ``workers`` (from the command
    line) overriding theirs; ServeRefused when they are not safe (``worker_timeout``)."""
    workers = workers or config["SERVE_WORKERS"] or default_workers()
    if int(workers) < 1:
        raise ServeRefused("SERVE_WORKERS must be at least 1")
    return ServeSettings(
        bind=bind or config["SERVE_BIND"],
        workers=int(workers),
        timeout=worker_timeout(config),
        forwarded_allow_ips=trusted_proxies(config["SERVE_FORWARDED_ALLOW_IPS"]),
        access_log=config["SERVE_ACCESS_LOG"] or None,
    )


class TrustedProxies:
    """WSGI middleware: the client's address from ``X-Forwarded-For`` (the address the
    proxy in front saw), for requests whose peer is one of ``allowed`` only; anyone else's
    header is ignored, so a client cannot choose its own address (and rate-limit bucket)."""

    def __init__(self, app, allowed: list[str]):
        self.app = app
        self.fixed = ProxyFix(app, x_for=1)
        self.any = "*" in allowed
        self.networks = [ipaddress.ip_network(entry, strict=False)
                         for entry in allowed if entry != "*"]

    def trusts(self, peer: str | None) -> bool:
        """Whether ``peer`` (REMOTE_ADDR) may say who the client is. No address: a Unix
        socket, which only local processes reach (gunicorn trusts those too)."""
        if self.any or not peer:
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def run_gunicorn(app: Flask, settings: ServeSettings) -> None:
    """Serve ``app`` under gunicorn with ``settings`` until it is stopped."""
    from gunicorn.app.base import BaseApplication

    from .extensions import db

    def post_fork(_server, _worker) -> None:
        # Each worker opens its own database connections, never the master's.
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {**settings.gunicorn_options(), "post_fork": post_fork}.items():
                if key in self.cfg.settings:  # an older gunicorn may lack a setting
                    self.cfg.set(key, value)

        def load(self):
            return TrustedProxies(app, settings.forwarded_allow_ips)

    # Outside the command's app context: each request must push its own (and so get its
    # own ``g`` and database session), which it does only when none is active.
    contextvars.Context().run(Server().run)


@click.command("serve")
@click.option("--bind", help="HOST:PORT to listen on (default: SERVE_BIND, 127.0.0.1:8000).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes (default: SERVE_WORKERS, else 2 x CPUs + 1).")
def serve_command(bind: str | None, workers: int | None) -> None:
    """Run the service under gunicorn, as in production: sync workers, a worker timeout
    longer than the longest provider call (refuses to start otherwise), forwarded headers
    from trusted proxies only, an access log naming each request's id."""
    app = current_app._get_current_object()
    settings = serve_settings(app.config, bind=bind, workers=workers)
    click.echo(f"buyflow: serving on {settings.bind} with {settings.workers} workers, "
               f"worker timeout {settings.timeout} s", err=True)
    run_gunicorn(app, settings)
