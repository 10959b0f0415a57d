"""Signed, timed tokens under the app's secret, for whatever must travel outside and come
back unaltered (the buy flow's state, its card token)."""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import URLSafeTimedSerializer


def signed_serializer(salt: str) -> URLSafeTimedSerializer:
    """Timed, SHA-256 signed tokens under the app's secret, kept apart by ``salt`` (one
    per purpose: a token made for one is refused by every other)."""
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=salt,
        signer_kwargs={"digest_method": hashlib.sha256},
    )
