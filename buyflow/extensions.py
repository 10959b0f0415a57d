"""Flask extensions, created unbound here and bound to an app in ``create_app``."""

from collections.abc import Callable

import click
from flask import Flask
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mailman import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Migrations:
    """Flask-Migrate (``flask db ...``, ``flask_migrate.upgrade()`` and the rest), imported
    only when migrations are used.

    Importing Flask-Migrate imports Alembic and Mako (and Pygments where installed), 7 MiB
    or more that a web worker never uses. So ``init_app`` imports none of it and leaves two
    stand-ins that bind Flask-Migrate to the app the first time either is used, with
    Flask-Migrate's own ``Migrate(app, db, directory)``, which then replaces them: the
    ``db`` command group, when a ``flask db ...`` command runs, and
    ``app.extensions["migrate"]``, when Flask-Migrate's functions or the migrations'
    ``env.py`` read it. What a command or ``upgrade()`` does is Flask-Migrate's, unchanged.
    """

    def init_app(self, app: Flask, db: SQLAlchemy, directory: str) -> None:
        def bind():  # Flask-Migrate's config for the app, bound on first use
            if isinstance(app.extensions["migrate"], _UnboundMigrate):
                from flask_migrate import Migrate

                Migrate(app, db, directory=directory)
            return app.extensions["migrate"]

        app.extensions["migrate"] = _UnboundMigrate(bind)
        app.cli.add_command(_MigrationCommands(bind))


class _UnboundMigrate:
    """``app.extensions["migrate"]`` until read: reading any attribute binds
    Flask-Migrate and answers from its own config."""

    def __init__(self, bind: Callable[[], object]):
        self._bind = bind

    def __getattr__(self, name: str):
        if name.startswith("__"):  # copy, pickle and the like probing: not a use
            raise AttributeError(name)
        return getattr(self._bind(), name)


class _MigrationCommands(click.Group):
    """``flask db`` until it runs: listed under its help text, then binds Flask-Migrate
    and hands the command line to Flask-Migrate's own ``db`` group."""

    def __init__(self, bind: Callable[[], object]):
        super().__init__("db", help="Perform database migrations.")
        self._bind = bind

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        self._bind()
        from flask_migrate.cli import db as migrate_commands

        return migrate_commands.make_context(info_name, args, parent=parent, **extra)


db = SQLAlchemy(model_class=Base)
migrate = Migrations()
csrf = CSRFProtect()
babel = Babel()
mail = Mail()
# Brotli or gzip for every compressible answer; settings COMPRESS_* (config.py).
compress = Compress()
# Limits are declared per view; storage is memory, or Redis when REDIS_URL is set.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
