"""What the models share: column types and helpers (UTC times, public ids),
``PublicRecord.by_public_id``, the lookup by public id built once, ``insert_row``, a new
row written as one statement, and ``read_outside_transaction`` for views that only
read."""

import functools
import secrets
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import (DateTime, Index, Insert, MetaData, Select, String, TypeDecorator,
                        bindparam, select, text)
from sqlalchemy.orm import Mapped, declared_attr, make_transient_to_detached, mapped_column

from ..extensions import db

T = TypeVar("T")

# Where a partial index keeps its condition until it is given to a database (its info).
_PARTIAL_WHERE = "buyflow.partial_where"


def read_outside_transaction() -> None:
    """The session's statements from here on each run on their own, outside a
    transaction (the database's autocommit), for a view that writes nothing: on
    PostgreSQL a BEGIN and a ROLLBACK fewer, and no snapshot held open while the page is
    made, which makes every other transaction's visibility checks dearer (measured: the
    flow page's half of PostgreSQL's CPU per page and checkout). A session already in a
    transaction keeps it."""
    if not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


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

    @classmethod
    def by_public_id(cls, public_id: str):
        """The row of this class with ``public_id``, or None."""
        return db.session.scalar(_by_public_id(cls), {"public_id": public_id})


@functools.cache
def _by_public_id(model: type) -> Select:
    # Built once per class: the flow and the API look rows up by public id on every
    # call, and building a query costs more than running it.
    return select(model).where(model.public_id == bindparam("public_id"))


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of the rows where ``where`` holds (SQL that PostgreSQL and SQLite read
    alike), partial on either database once ``use_dialect`` has named the one in use.

    The condition is not declared for both databases here (``postgresql_where=``,
    ``sqlite_where=``): SQLAlchemy checks such an option by importing its dialect, and
    the PostgreSQL dialect comes with every driver module it has, 2.4 MiB in each web
    worker on SQLite."""
    return Index(name, *columns, unique=unique, info={_PARTIAL_WHERE: where})


def use_dialect(metadata: MetaData, dialect_name: str) -> None:
    """Make each ``partial_index`` of ``metadata`` partial on the database of
    ``dialect_name`` ("postgresql", "sqlite"), which the app uses: before its tables
    are made, migrated or compared with the models there. Doing it again changes
    nothing."""
    for table in metadata.tables.values():
        for index in table.indexes:
            where = index.info.get(_PARTIAL_WHERE)
            if where is not None and index.dialect_options[dialect_name]["where"] is None:
                index.dialect_options[dialect_name]["where"] = text(where)


def insert_for(session, model):
    """An INSERT into ``model``'s table in the dialect of the database ``session`` uses,
    so that ``on_conflict_do_nothing``/``on_conflict_do_update`` are at hand (PostgreSQL
    and SQLite both have them). Only that database's dialect is imported."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def insert_row(model: type[T], **values) -> T:
    """Write a row of ``model`` with ``values`` (its columns by name) as one INSERT, its
    other columns given by the table's defaults, and return an instance standing for it
    in the session as if it had been read: ``values``, the primary key and the public id
    are the row's, every other column is read when first used. Not flushed, not
    committed. The caller keeps a reference while it needs the instance: the session
    holds only changed ones for sure.

    For the few hot paths' new rows: the unit of work's flush costs several times the
    INSERT itself, and on SQLite the database's write lock is held from a transaction's
    first write to its commit."""
    row = db.session.execute(_insert_returning(model), values).one()
    instance = model(**values, **row._mapping)
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance


@functools.cache
def _insert_returning(model: type) -> Insert:
    table = model.__table__
    returned = [*table.primary_key.columns]
    if "public_id" in table.c:
        returned.append(table.c.public_id)
    return table.insert().returning(*returned)
