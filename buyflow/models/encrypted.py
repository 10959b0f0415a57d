"""Secrets at rest: columns whose values the database only ever holds encrypted.

Sellers' signing secrets and webhook endpoints' secrets must stay readable, because they
sign; so they are encrypted (Fernet: AES-128-CBC with HMAC-SHA256) under the keys in
``SECRETS_KEYS`` (newest first), read from the current app's config at each use. The
newest key encrypts; every key listed decrypts (``MultiFernet``), so a key is rotated by
putting the new one first, running ``flask --app wsgi secrets rotate`` (which re-encrypts
every row under it), then dropping the old one. Callers read and write plain strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import JSON, Text, TypeDecorator, bindparam, select


class SecretsKeyError(RuntimeError):
    """The keys in ``SECRETS_KEYS`` are missing or malformed, or none of them decrypts a
    value in the database."""


def check_keys(keys: Iterable[str]) -> list[str]:
    """``keys`` as a list, each checked to be a Fernet key (32 url-safe base64 bytes);
    SecretsKeyError naming the position of the first that is not (never the key)."""
    keys = [key.strip() for key in keys if key.strip()]
    if not keys:
        raise SecretsKeyError("SECRETS_KEYS is empty: the key that encrypts sellers' "
                              "secrets in the database is missing")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise SecretsKeyError(
                f"SECRETS_KEYS: key {position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes; make one with `python -c \"from cryptography.fernet "
                "import Fernet; print(Fernet.generate_key().decode())\"`)") from None
    return keys


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def cipher() -> MultiFernet:
    """The current app's cipher: its newest key encrypts, every one of its keys decrypts."""
    keys = current_app.config.get("SECRETS_KEYS")
    if not keys:
        raise SecretsKeyError("SECRETS_KEYS is not set: the secrets in the database can be "
                              "neither read nor written")
    return _cipher(tuple(keys))


def encrypt(plaintext: str) -> str:
    """``plaintext`` encrypted under the newest key (a different token every time)."""
    return cipher().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """The plaintext of ``token``; SecretsKeyError when no key in SECRETS_KEYS opens it
    (the key it was encrypted with is not listed, or the value is not ours)."""
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretsKeyError(
            "a secret in the database cannot be decrypted with any key in SECRETS_KEYS: "
            "the key it was encrypted with is missing (when rotating, keep the old key "
            "listed after the new one until `flask --app wsgi secrets rotate` has run)"
        ) from None


class EncryptedText(TypeDecorator):
    """A string kept encrypted: a Fernet token in the database, the plaintext in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


class EncryptedStringList(TypeDecorator):
    """A list of strings kept as a JSON list of Fernet tokens, one per string (so a dump
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
