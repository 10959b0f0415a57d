"""Shared column helpers for the models."""

import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def public_id(prefix: str) -> str:
    """A random, unguessable identifier shown outside (``ord_3k9...``); row ids stay inside."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"
