"""Row locks that serialise competing writers, on SQLite as on PostgreSQL.

PostgreSQL locks the row (``SELECT ... FOR UPDATE``). SQLite has no row locks and
ignores ``FOR UPDATE``; there the first lock of a transaction takes the database's write
lock (``BEGIN IMMEDIATE``), which every other writer waits for (the busy timeout) until
this transaction ends. Either way the lock lasts until the caller commits or rolls back:
keep such transactions short, and never call a provider while holding one.

The money paths lock their order first, then whatever else they touch, so two of them
never wait on each other in opposite orders.
"""

from __future__ import annotations

from typing import TypeVar

from flask import Flask
from sqlalchemy import event

from .extensions import db

T = TypeVar("T")


def locked(model: type[T], row_id: int) -> T | None:
    """The row ``row_id`` of ``model``, read afresh and locked for the rest of the current
    transaction against every other writer that locks it (on SQLite: every writer)."""
    session = db.session
    session.flush()  # what the caller changed is written, not lost to the re-read
    if session.get_bind().dialect.name == "sqlite":
        _take_sqlite_write_lock()
    present = session.identity_map.get(session.identity_key(model, row_id))
    if present is not None:
        session.expire(present)  # its loaded relationships may be stale too
    return session.get(model, row_id, with_for_update=True, populate_existing=True)


def _take_sqlite_write_lock() -> None:
    """Make the current SQLite transaction a writer's, waiting for other writers.

    pysqlite opens a transaction only before the first INSERT/UPDATE/DELETE, so reads
    before that ran outside any transaction; ``BEGIN IMMEDIATE`` starts one holding the
    write lock, and every read from now on sees what the last writer committed."""
    connection = db.session.connection()
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _configure_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers go on while a writer holds the lock; the busy timeout (set by
    # pysqlite's ``timeout``) is how long a writer waits for the lock.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] not in ("wal", "memory"):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def init_app(app: Flask) -> None:
    """On SQLite, put file databases in WAL mode when connecting."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite" and not event.contains(
                engine, "connect", _configure_sqlite):
            event.listen(engine, "connect", _configure_sqlite)
