"""The app's commands (``flask --app wsgi sellers|products|demo|payments|secrets|people|
serve ...``), named here and imported from their modules only when one is listed or run.

Every process that builds the app builds its command line, web workers too, which never
run a command: so ``buyflow/cli.py`` and ``buyflow/serve.py`` (and what they import) are
not imported to build it. The commands themselves are theirs, unchanged.
"""

from __future__ import annotations

import importlib

import click
from flask import Flask

# Each command's name and where it is ("module:attribute").
COMMANDS = {
    "sellers": "buyflow.cli:sellers",
    "products": "buyflow.cli:products",
    "demo": "buyflow.cli:demo",
    "payments": "buyflow.cli:payments",
    "secrets": "buyflow.cli:secrets_at_rest",
    "people": "buyflow.cli:people",
    "serve": "buyflow.serve:serve_command",
}


class LazyCommand(click.Command):
    """The command at ``target`` ("module:attribute"), listed under ``name``: imported
    when its short help is listed (``flask --help``) or when it runs, which is then the
    command's own (its options, help and subcommands)."""

    def __init__(self, name: str, target: str):
        super().__init__(name)
        self.target = target

    def command(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.command().get_short_help_str(limit)

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        return self.command().make_context(info_name, args, parent=parent, **extra)


def init_app(app: Flask) -> None:
    for name, target in COMMANDS.items():
        app.cli.add_command(LazyCommand(name, target))
