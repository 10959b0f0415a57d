"""Sellers' signing secrets and webhook secrets are encrypted at rest
(buyflow/models/encrypted.py): a dump shows none of them, signatures still verify, keys
rotate, and a wrong or missing key says so."""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook

from buyflow import create_app
from buyflow.extensions import db
from buyflow.models import Seller, WebhookEndpoint
from buyflow.models.encrypted import TOKEN_PREFIX, SecretsKeyError, decrypt, encrypt, new_key
from buyflow.sellers.accounts import add_webhook_endpoint
from buyflow.sellers.results import sign_result, verify_result
from buyflow.sellers.webhooks import signed_headers
from tests.conftest import make_seller
from tests.test_security import app_with as app_with_settings

SIGNING_SECRET = "sign-northwind"


def app_with(app, tmp_path, **settings):
    """Another app on the suite's database, with ``settings``: its own SECRETS_KEYS
    (none given: the development default, kept in its instance folder)."""
    return app_with_settings(app, tmp_path, **{"SECRETS_KEYS": None,
                                               "WEBHOOK_ALLOW_PRIVATE_URLS": True,
                                               **settings})


def seller_with_webhook() -> tuple[Seller, str]:
    """A seller with a signing secret and a webhook endpoint; the endpoint's secret."""
    seller = make_seller(signing_secret=SIGNING_SECRET)
    _, webhook_secret = add_webhook_endpoint(seller, "http://127.0.0.1:9/hooks")
    db.session.commit()
    return seller, webhook_secret


def stored(connection_or_session) -> tuple[list, list]:
    """What the database holds: the sellers' signing secrets (JSON as stored) and the
    endpoints' secrets, read by raw SQL as a dump would."""
    secrets = [row[0] for row in connection_or_session.execute(
        text("SELECT signing_secrets FROM sellers ORDER BY id"))]
    endpoint_secrets = [row[0] for row in connection_or_session.execute(
        text("SELECT secret FROM webhook_endpoints ORDER BY id"))]
    return ([json.loads(value) if isinstance(value, str) else value for value in secrets],
            endpoint_secrets)


@contextmanager
def only_key(app, key):
    """Within an app context of ``app`` whose SECRETS_KEYS is ``key`` alone."""
    kept = app.config["SECRETS_KEYS"]
    app.config["SECRETS_KEYS"] = [key]
    try:
        with app.app_context():
            yield
    finally:
        app.config["SECRETS_KEYS"] = kept


def dump(tables=("sellers", "webhook_endpoints")) -> str:
    """Every column of every row of ``tables``, as text."""
    return "\n".join(repr(tuple(row)) for table in tables
                     for row in db.session.execute(text(f"SELECT * FROM {table}")))


def test_a_dump_of_the_database_shows_no_secret(app_context):
    seller, webhook_secret = seller_with_webhook()
    everything = dump()
    assert SIGNING_SECRET not in everything
    assert webhook_secret not in everything
    assert webhook_secret.removeprefix("whsec_") not in everything
    [signing], [endpoint] = stored(db.session)
    assert len(signing) == 1 and signing[0].startswith(TOKEN_PREFIX)
    assert endpoint.startswith(TOKEN_PREFIX)
    # Callers still see the plain secrets.
    db.session.expire_all()
    assert db.session.get(Seller, seller.id).signing_secrets == [SIGNING_SECRET]
    assert db.session.get(Seller, seller.id).webhook_endpoints[0].secret == webhook_secret


def test_the_same_secret_is_never_stored_twice_the_same(app_context):
    make_seller(api_key="sk_test_one")
    make_seller(name="Other", api_key="sk_test_two")
    [first, second], _ = stored(db.session)
    assert first != second


def test_signed_results_and_webhook_signatures_still_verify(app_context):
    seller, webhook_secret = seller_with_webhook()
    db.session.expire_all()
    seller = db.session.get(Seller, seller.id)
    token = sign_result({"order": "ord_1"}, seller.signing_secrets)
    assert verify_result(token, [SIGNING_SECRET])["order"] == "ord_1"
    endpoint = seller.webhook_endpoints[0]
    body = json.dumps({"type": "order.paid"})
    headers = signed_headers(endpoint.secret, "msg_1", datetime.now(UTC), body)
    Webhook(webhook_secret).verify(body, headers)  # raises if it does not verify


def test_rotation_keeps_old_rows_readable_then_reencrypts_them(app, tmp_path):
    old, new = new_key(), new_key()
    before = app_with(app, tmp_path, SECRETS_KEYS=[old])
    with before.app_context():
        seller, webhook_secret = seller_with_webhook()
        seller_id = seller.id
        db.session.remove()
    both = app_with(app, tmp_path, SECRETS_KEYS=[new, old])
    with both.app_context():
        seller = db.session.get(Seller, seller_id)
        assert seller.signing_secrets == [SIGNING_SECRET]  # still read under the old key
        # A secret written now is under the new key.
        seller.add_signing_secret()
        db.session.commit()
        db.session.remove()
    with both.app_context():
        result = both.test_cli_runner().invoke(args=["secrets", "rotate"])
        db.session.remove()
    assert result.exit_code == 0, result.output
    assert "sellers: 1 row(s)" in result.output
    assert "webhook_endpoints: 1 row(s)" in result.output
    with both.app_context():
        [signing], [endpoint] = stored(db.session)
        db.session.remove()
    for token in [*signing, endpoint]:
        with only_key(app, new):
            decrypt(token)
        with only_key(app, old), pytest.raises(SecretsKeyError):
            decrypt(token)
    after = app_with(app, tmp_path, SECRETS_KEYS=[new])  # the old key dropped
    with after.app_context():
        seller = db.session.get(Seller, seller_id)
        assert seller.signing_secrets[0] == SIGNING_SECRET and len(seller.signing_secrets) == 2
        assert seller.webhook_endpoints[0].secret == webhook_secret
        db.session.remove()
    for other in (before, both, after):
        with other.app_context():
            db.engine.dispose()


def test_a_wrong_key_says_so_and_rotation_changes_nothing(app, tmp_path):
    with app.app_context():
        seller_id = make_seller().id
        before = stored(db.session)
        db.session.remove()
    wrong = app_with(app, tmp_path, SECRETS_KEYS=[new_key()])
    with wrong.app_context():
        with pytest.raises(SecretsKeyError, match="cannot be decrypted with any key in "
                                                  "SECRETS_KEYS"):
            db.session.get(Seller, seller_id).signing_secrets
        db.session.remove()
    with wrong.app_context():
        result = wrong.test_cli_runner().invoke(args=["secrets", "rotate"])
        assert result.exit_code == 1 and "cannot be decrypted" in result.output
        assert stored(db.session) == before
        db.session.remove()
        db.engine.dispose()


def test_on_https_the_service_refuses_to_start_without_a_key(app, tmp_path):
    with pytest.raises(SecretsKeyError, match="BUYFLOW_SECRETS_KEYS is not set"):
        app_with(app, tmp_path, PUBLIC_URL="https://pay.example.com")
    assert not (tmp_path / "secrets_keys").exists()  # never made up there
    given = new_key()
    assert app_with(app, tmp_path, PUBLIC_URL="https://pay.example.com",
                    SECRETS_KEYS=[given]).config["SECRETS_KEYS"] == [given]
    keys_file = tmp_path / "keys"
    keys_file.write_text(given + "\n")
    assert app_with(app, tmp_path, PUBLIC_URL="https://pay.example.com",
                    SECRETS_KEYS_FILE=str(keys_file)).config["SECRETS_KEYS"] == [given]


def test_a_malformed_key_is_refused_at_start_without_showing_it(app, tmp_path):
    good = new_key()
    with pytest.raises(SecretsKeyError, match="key 2 is not a key") as refused:
        app_with(app, tmp_path, SECRETS_KEYS=[good, "not-a-key-at-all"])
    assert "not-a-key-at-all" not in str(refused.value)


def test_keys_come_from_the_environment_comma_separated(tmp_path, monkeypatch):
    new, old = new_key(), new_key()
    monkeypatch.setenv("BUYFLOW_SECRETS_KEYS", f"{new}, {old}")
    from_environment = create_app(instance_path=str(tmp_path), test_config={
        "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/db.sqlite",
        "STRIPE_SECRET_KEY": None, "REDIS_URL": None})
    assert from_environment.config["SECRETS_KEYS"] == [new, old]
    assert not (tmp_path / "secrets_keys").exists()


def test_in_development_a_key_is_made_once_and_kept(app, tmp_path):
    first = app_with(app, tmp_path).config["SECRETS_KEYS"]
    assert first == [(tmp_path / "secrets_keys").read_text()]
    assert len(base64.urlsafe_b64decode(first[0])) == 32
    assert app_with(app, tmp_path).config["SECRETS_KEYS"] == first


def test_a_key_made_for_fernet_is_still_a_key(app, tmp_path):
    fernet_key = Fernet.generate_key().decode()
    with only_key(app, fernet_key):
        assert decrypt(encrypt("sign-x")) == "sign-x"
    assert app_with(app, tmp_path, SECRETS_KEYS=[fernet_key]).config["SECRETS_KEYS"] == [
        fernet_key]


def test_a_fernet_token_still_in_a_row_is_read_and_rotation_rewrites_it(app_context):
    """A row written by a server not yet upgraded past 0018 (a Fernet token under a key
    in SECRETS_KEYS) reads as its plaintext; ``secrets rotate`` makes it a token of
    today's format."""
    seller, _ = seller_with_webhook()
    fernet = Fernet(current_app.config["SECRETS_KEYS"][0])
    db.session.execute(text("UPDATE sellers SET signing_secrets = :value WHERE id = :id"),
                       {"value": json.dumps([fernet.encrypt(b"sign-old").decode()]),
                        "id": seller.id})
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Seller, seller.id).signing_secrets == ["sign-old"]
    result = current_app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    [signing], _ = stored(db.session)
    assert signing[0].startswith(TOKEN_PREFIX)
    assert db.session.get(Seller, seller.id).signing_secrets == ["sign-old"]


def fernet_plaintexts(fernet: Fernet) -> tuple[list, list]:
    """What ``stored`` holds, each token opened with ``fernet``."""
    with db.engine.connect() as connection:
        signing, endpoints = stored(connection)
    return ([[fernet.decrypt(token.encode()).decode() for token in row] for row in signing],
            [fernet.decrypt(token.encode()).decode() for token in endpoints])


def test_the_migrations_encrypt_existing_rows_and_their_downgrades_decrypt_them(app):
    """On this suite's database (SQLite or PostgreSQL): plaintext rows written under 0012
    become Fernet tokens under the newest key with 0013, secretbox tokens with 0018 (the
    code reads both); the downgrades give Fernet tokens, then the plaintext, back."""
    with app.app_context():
        db.session.remove()
        downgrade(revision="0012_seller_brand")
        newest = Fernet(app.config["SECRETS_KEYS"][0])
        try:
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO sellers (id, public_id, name, origins, signing_secrets, "
                    "default_locale, allow_partial_offline, created_at) VALUES (1, 'sel_1', "
                    "'S', '[]', '[\"sign-a\", \"sign-b\"]', 'en', false, "
                    "'2026-11-01 00:00:00')"))
                connection.execute(text(
                    "INSERT INTO webhook_endpoints (id, public_id, seller_id, url, secret, "
                    "enabled, created_at) VALUES (1, 'we_1', 1, 'http://127.0.0.1:9/', "
                    "'whsec_plain', true, '2026-11-01 00:00:00')"))
            upgrade(revision="0013_secrets_at_rest")
            assert fernet_plaintexts(newest) == ([["sign-a", "sign-b"]], ["whsec_plain"])
            upgrade()
            with db.engine.connect() as connection:
                [signing], [endpoint] = stored(connection)
            assert all(token.startswith(TOKEN_PREFIX) for token in [*signing, endpoint])
            assert [decrypt(token) for token in signing] == ["sign-a", "sign-b"]
            seller = db.session.get(Seller, 1)
            assert seller.signing_secrets == ["sign-a", "sign-b"]
            assert db.session.get(WebhookEndpoint, 1).secret == "whsec_plain"
            db.session.remove()
            downgrade(revision="0017_people_and_roles")
            assert fernet_plaintexts(newest) == ([["sign-a", "sign-b"]], ["whsec_plain"])
            downgrade(revision="0012_seller_brand")
            with db.engine.connect() as connection:
                assert stored(connection) == ([["sign-a", "sign-b"]], ["whsec_plain"])
        finally:
            db.session.remove()
            upgrade()
