"""The operator admin: the people who run this Buyflow service manage its sellers,
people, bans, the blacklist, roles and read the audit log. Every route is an
``operator_page``; each section is a module of its own, its views on this blueprint."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _

from .access import operator_page

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@operator_page
def index():
    return render_template("admin/index.html")


def denied(exc):
    """403 and 404 of admin pages, in the operator's language."""
    if exc.code == 403:
        message = _("Only operators of this Buyflow service may open this page.")
    else:
        message = _("There is nothing here.")
    return render_template("console/denied.html", status=exc.code, message=message), exc.code


bp.register_error_handler(403, denied)
bp.register_error_handler(404, denied)


# The sections, each a module with its views on ``bp``.
from . import audit_log, bans, people, sellers  # noqa: E402,F401
