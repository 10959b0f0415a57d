"""The account's settings: where a buyer finds their emails, saved cards, sessions and
the deletion of the account, each managed on its own page."""

from __future__ import annotations

from flask import render_template

from buyflow.models._base import utcnow

from ..auth.sessions import buyer_required, current_buyer
from . import bp
from .cards import default_first


@bp.get("/settings")
@buyer_required
def settings():
    """The signed-in buyer's emails and cards at a glance, signing out everywhere, and
    the way to delete the account."""
    buyer = current_buyer()
    return render_template("account/settings.html", buyer=buyer,
                           cards=default_first(buyer.cards), today=utcnow().date())
