"""Shared column helpers for the models."""

import secrets
from datetime import UTC, datetime

from sqlalchemy import DateTime, String, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on every database (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous: use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def public_id(prefix: str) -> str:
    """A random, unguessable identifier shown outside (``ord_3k9...``); row ids stay inside."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"


class PublicRecord:
    """A row with an internal id, a public id with the class's ``public_id_prefix``, and
    its creation time."""

    public_id_prefix: str

    id: Mapped[int] = mapped_column(primary_key=True)

    @declared_attr
    def public_id(cls) -> Mapped[str]:
        prefix = cls.public_id_prefix
        return mapped_column(String(40), unique=True, default=lambda: public_id(prefix))

    @declared_attr
    def created_at(cls) -> Mapped[datetime]:
        return mapped_column(UTCDateTime(), default=utcnow)


def insert_for(session, model):
    """An INSERT into ``model``'s table in the dialect of the database ``session`` uses,
    so that ``on_conflict_do_nothing``/``on_conflict_do_update`` are at hand (PostgreSQL
    and SQLite both have them)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
