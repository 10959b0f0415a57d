"""Buyflow: a self-hosted payments service that any website can sell through."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: config, then extensions, then blueprints, then CLI commands."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    configure_settings(app, test_config)
    configure_extensions(app)
    configure_blueprints(app)
    configure_cli(app)
    return app


def configure_settings(app: Flask, test_config: Mapping | None) -> None:
    from .config import DefaultConfig

    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("BUYFLOW")
    if test_config:
        app.config.update(test_config)

    # Every file the app writes has a setting; those left unset go to the instance folder.
    instance = Path(app.instance_path)
    if app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        database = _writable(instance / "buyflow.sqlite")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {**options.get("connect_args", {}),
                                   "timeout": app.config["SQLITE_BUSY_TIMEOUT"]}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _kept_secret(
            _writable(app.config["SECRET_KEY_FILE"] or instance / "secret_key"),
            lambda: secrets.token_urlsafe(48))
    if app.config["MAIL_BACKEND"] == "file" and not app.config["MAIL_FILE_PATH"]:
        app.config["MAIL_FILE_PATH"] = str(instance / "mail")
    if not app.config["REDIS_URL"]:
        app.config["TASKS_SQLITE_PATH"] = str(
            _writable(app.config["TASKS_SQLITE_PATH"] or instance / "huey.sqlite"))
    if not app.config["EMBED_JS_DIR"]:
        app.config["EMBED_JS_DIR"] = str(PROJECT_ROOT / "embed-js" / "dist")
    if app.config["HTTPS"] is None:
        app.config["HTTPS"] = app.config["PUBLIC_URL"].startswith("https://")
    if app.config["HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SECRETS_KEYS"] = _secrets_keys(app.config, instance)


def _writable(path: str | Path) -> Path:
    """``path``, its folder made if missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _kept_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret kept in ``path``, made by ``make`` on first start (never committed)."""
    if not path.exists():
        # Made readable by its owner only before the secret is written into it.
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(make())
    return path.read_text().strip()


def _secrets_keys(config: Mapping, instance: Path) -> list[str]:
    """The keys that encrypt secrets at rest, newest first, each checked: SECRETS_KEYS (a
    list, or from the environment a comma-separated string), else the keys kept one a
    line in SECRETS_KEYS_FILE, made with one new key on first start. On https
    (production) no key is ever made: without SECRETS_KEYS or an existing
    SECRETS_KEYS_FILE, SecretsKeyError stops the start."""
    from .models.encrypted import NEW_KEY_COMMAND, SecretsKeyError, check_keys, new_key

    keys = config["SECRETS_KEYS"]
    if isinstance(keys, str):
        keys = keys.split(",")
    if keys:
        return check_keys(keys)
    path = config["SECRETS_KEYS_FILE"]
    if config["HTTPS"] and not (path and Path(path).is_file()):
        raise SecretsKeyError(
            "BUYFLOW_SECRETS_KEYS is not set: on https (production) the key that encrypts "
            "sellers' secrets in the database must be given, never made up. Set it to a "
            f"key from `{NEW_KEY_COMMAND}` (or name a file of keys in "
            "BUYFLOW_SECRETS_KEYS_FILE); see docs/deployment.md")
    path = _writable(path or instance / "secrets_keys")
    return check_keys(_kept_secret(path, new_key).split())


def configure_extensions(app: Flask) -> None:
    from . import (
        i18n,
        ledger,
        locks,
        metrics,
        models,
        payments,
        refund_requests,
        request_log,
        security,
        static_assets,
        tasks,
        web_input,
    )
    from .buyers import cards as buyer_cards
    from .extensions import babel, compress, csrf, db, limiter, mail, migrate
    from .receipts import mail as receipt_mail
    from .sellers import webhooks as seller_webhooks

    db.init_app(app)
    models.init_app(app)
    locks.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    # Before any other after_request: compression, run last, gets the finished answer.
    app.config.setdefault("COMPRESS_CACHE_BACKEND", static_assets.CompressedAssets)
    app.config.setdefault("COMPRESS_CACHE_KEY", static_assets.compression_key)
    compress.init_app(app)
    request_log.init_app(app)  # first: even a refused request has an id in the logs
    metrics.init_app(app)  # before web_input: refused requests are counted and timed too
    web_input.init_app(app)  # bad input is refused before anything reads it
    csrf.init_app(app)
    mail.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    tasks.init_app(app)  # first of the features: they register their tasks on it
    payments.init_app(app)
    buyer_cards.init_app(app)
    ledger.init_app(app)
    seller_webhooks.init_app(app)
    receipt_mail.init_app(app)
    refund_requests.init_app(app)
    security.init_app(app)


def configure_blueprints(app: Flask) -> None:
    import management

    from . import embed, health, static_assets
    from .api import errors as api_errors
    from .api import idempotency as api_idempotency
    from .api import views as api_views
    from .flow import views as flow_views
    from .payments import webhooks

    health.init_app(app)
    app.register_blueprint(flow_views.bp)
    app.register_blueprint(api_views.bp)
    api_errors.init_app(app)
    api_idempotency.init_app(app)
    app.register_blueprint(webhooks.bp)
    embed.init_app(app)
    management.init_app(app)
    static_assets.init_app(app)  # last: serves the static folders of the blueprints above


def configure_cli(app: Flask) -> None:
    from . import commands

    commands.init_app(app)
