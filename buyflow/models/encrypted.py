"""Secrets at rest: columns whose values the database only ever holds encrypted.

Sellers' signing secrets and webhook endpoints' secrets must stay readable, because they
sign; so they are encrypted under the keys in ``SECRETS_KEYS`` (newest first), read from
the current app's config at each use. The newest key encrypts; every key listed
decrypts, so a key is rotated by putting the new one first, running ``flask --app wsgi
secrets rotate`` (which re-encrypts every row under it), then dropping the old one.
Callers read and write plain strings.

A value is a token ``sb1.<url-safe base64>``: libsodium's secretbox (XSalsa20-Poly1305,
a random 24-byte nonce each time, authenticated), through PyNaCl, under a key derived
from the configured one. Not Fernet, which this module wrote before: ``cryptography``'s
OpenSSL build costs every web worker about 7 MiB more than libsodium, and every worker
decrypts. Migration 0018 rewrites Fernet tokens; one still met (written by a server not
yet upgraded) is read with ``cryptography``, imported then, and ``secrets rotate``
rewrites it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Iterable
from functools import lru_cache

from flask import current_app
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy import JSON, Text, TypeDecorator, bindparam, select

# What a token of this format starts with (secretbox, format 1).
TOKEN_PREFIX = "sb1."
# How to make a key, as the messages and docs say it (the standard library only).
NEW_KEY_COMMAND = ('python3 -c "import base64, secrets; '
                   'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"')
# Each configured key is 32 random bytes; secretbox is keyed with a BLAKE2b of it under
# this label, so the bytes that keyed Fernet (before migration 0018) key nothing else.
_KEY_LABEL = b"buyflow secrets at rest: secretbox v1"


class SecretsKeyError(RuntimeError):
    """The keys in ``SECRETS_KEYS`` are missing or malformed, or none of them decrypts a
    value in the database."""


def new_key() -> str:
    """A new key for SECRETS_KEYS: 32 random bytes, url-safe base64 (44 characters;
    what NEW_KEY_COMMAND prints, and the format of Fernet's keys, which stay valid)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _key_bytes(key: str) -> bytes:
    """The 32 bytes ``key`` encodes; ValueError when it encodes anything else."""
    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError):
        raise ValueError("not url-safe base64") from None
    if len(raw) != 32:
        raise ValueError("not 32 bytes")
    return raw


def check_keys(keys: Iterable[str]) -> list[str]:
    """``keys`` as a list, each checked to be a key (32 url-safe base64-encoded bytes, as
    ``new_key`` makes); SecretsKeyError naming the position of the first that is not
    (never the key)."""
    keys = [key.strip() for key in keys if key.strip()]
    if not keys:
        raise SecretsKeyError("SECRETS_KEYS is empty: the key that encrypts sellers' "
                              "secrets in the database is missing")
    for position, key in enumerate(keys, start=1):
        try:
            _key_bytes(key)
        except ValueError:
            raise SecretsKeyError(
                f"SECRETS_KEYS: key {position} is not a key (32 url-safe base64-encoded "
                f"bytes; make one with `{NEW_KEY_COMMAND}`)") from None
    return keys


@lru_cache(maxsize=8)
def _boxes(keys: tuple[str, ...]) -> tuple[SecretBox, ...]:
    return tuple(SecretBox(hashlib.blake2b(_KEY_LABEL, key=_key_bytes(key),
                                           digest_size=SecretBox.KEY_SIZE).digest())
                 for key in keys)


def _keys() -> tuple[str, ...]:
    keys = current_app.config.get("SECRETS_KEYS")
    if not keys:
        raise SecretsKeyError("SECRETS_KEYS is not set: the secrets in the database can be "
                              "neither read nor written")
    return tuple(keys)


def encrypt(plaintext: str) -> str:
    """``plaintext`` encrypted under the newest key (a different token every time)."""
    sealed = _boxes(_keys())[0].encrypt(plaintext.encode())
    return TOKEN_PREFIX + base64.urlsafe_b64encode(bytes(sealed)).decode()


def decrypt(token: str) -> str:
    """The plaintext of ``token``; SecretsKeyError when no key in SECRETS_KEYS opens it
    (the key it was encrypted with is not listed, or the value is not ours)."""
    keys = _keys()
    if token.startswith(TOKEN_PREFIX):
        try:
            sealed = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX):].encode())
        except (binascii.Error, ValueError):
            sealed = b""
        for box in _boxes(keys):
            try:
                return box.decrypt(sealed).decode()
            except (CryptoError, ValueError):
                continue
    else:
        plaintext = _decrypt_fernet(token, keys)
        if plaintext is not None:
            return plaintext
    raise SecretsKeyError(
        "a secret in the database cannot be decrypted with any key in SECRETS_KEYS: "
        "the key it was encrypted with is missing (when rotating, keep the old key "
        "listed after the new one until `flask --app wsgi secrets rotate` has run)")


def _decrypt_fernet(token: str, keys: tuple[str, ...]) -> str | None:
    """The plaintext of a Fernet token (this module's format before migration 0018)
    under one of ``keys``, else None. ``cryptography`` is imported only here: a worker
    that meets no such token never loads it."""
    from cryptography.fernet import Fernet, InvalidToken, MultiFernet

    try:
        return MultiFernet([Fernet(key) for key in keys]).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


class EncryptedText(TypeDecorator):
    """A string kept encrypted: a token in the database, the plaintext in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


class EncryptedStringList(TypeDecorator):
    """A list of strings kept as a JSON list of tokens, one per string (so a dump
    shows how many there are, never what they are)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else [encrypt(item) for item in value]

    def process_result_value(self, value, dialect):
        return None if value is None else [decrypt(item) for item in value]


def rotate(session, metadata, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every encrypted column of every table in ``metadata`` under the newest
    key, ``batch_size`` rows at a time, in ``session``'s transaction (the caller commits);
    returns the rows rewritten per table. A value no key opens stops it (SecretsKeyError)."""
    rewritten = {}
    for table in metadata.sorted_tables:
        columns = [column for column in table.columns
                   if isinstance(column.type, (EncryptedText, EncryptedStringList))]
        if not columns:
            continue
        (key,) = table.primary_key.columns
        update = table.update().where(key == bindparam("row_key")).values(
            {column.name: bindparam(f"new_{column.name}", type_=column.type)
             for column in columns})
        count, last = 0, None
        while True:
            query = select(key, *columns).order_by(key).limit(batch_size)
            if last is not None:
                query = query.where(key > last)
            rows = session.execute(query).all()
            if not rows:
                break
            session.execute(update, [
                {"row_key": row[0], **{f"new_{column.name}": value
                                       for column, value in zip(columns, row[1:])}}
                for row in rows])
            count, last = count + len(rows), rows[-1][0]
        rewritten[table.name] = count
    return rewritten
