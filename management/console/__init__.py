"""The seller console: a seller's team runs its business from these pages. Every route
is a ``member_page`` with the permission it needs (``access.py``); each section of the
console is a module of its own, its views on this blueprint."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from buyflow.extensions import db
from buyflow.models import Membership

from ..auth.sessions import buyer_required, current_buyer
from .access import add_seller_id, allowed, current_membership, current_seller
from .labels import role_label

bp = Blueprint("console", __name__, url_prefix="/console")
bp.url_defaults(add_seller_id)


def memberships_of_current_person() -> list[Membership]:
    person = current_buyer()
    if person is None:
        return []
    return db.session.scalars(db.select(Membership).filter_by(buyer_id=person.id)
                              .order_by(Membership.id)).all()


@bp.get("/")
@buyer_required
def index():
    """The sellers the person is a member of: straight to the only one, else a list."""
    memberships = memberships_of_current_person()
    if len(memberships) == 1 and not request.args.get("all"):
        return redirect(url_for("console.home", seller_id=memberships[0].seller.public_id))
    return render_template("console/index.html", memberships=memberships)


def denied(exc):
    """403 and 404 of console pages, in the person's language."""
    if exc.code == 403:
        message = _("Your role in this team does not allow this. Ask an owner or an admin.")
    else:
        message = _("There is nothing here, or it is not yours to see.")
    return render_template("console/denied.html", status=exc.code, message=message), exc.code


bp.register_error_handler(403, denied)
bp.register_error_handler(404, denied)


def template_helpers() -> dict:
    return {"console_allowed": allowed, "console_seller": lambda: current_seller(),
            "console_membership": lambda: current_membership(),
            "console_memberships": memberships_of_current_person, "role_label": role_label}


# The sections, each a module with its views on ``bp``.
from . import (  # noqa: E402,F401
    customers,
    developers,
    developers_webhooks,
    home,
    members,
    order_detail,
    orders,
    products,
    refund_requests,
    settings,
    sign_up,
)
