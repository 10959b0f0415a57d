"""Who is signed in: the buyer id and session epoch in Flask's signed session cookie."""

from __future__ import annotations

import functools
import secrets

from flask import redirect, request, session, url_for

from buyflow.extensions import db
from buyflow.models import Buyer
from buyflow.people.bans import refusal_for_email


def sign_in(buyer: Buyer) -> None:
    """Start a new session for ``buyer``: nothing of the old one survives."""
    session.clear()
    session["buyer"] = buyer.id
    session["epoch"] = buyer.session_epoch
    session["sid"] = secrets.token_urlsafe(16)  # a new session id at every sign-in
    session.permanent = True


def sign_out() -> None:
    session.clear()


def sign_out_everywhere(buyer: Buyer) -> None:
    """End every session of ``buyer``, on every device, this one included."""
    buyer.session_epoch += 1
    db.session.commit()
    session.clear()


def current_buyer() -> Buyer | None:
    """The signed-in person, or None (also for a session ended everywhere, a person an
    operator deactivated, or one whose email is refused since they signed in: banned,
    its domain banned, blacklisted — ``buyflow.people.bans``; a ban lifted lets them sign
    in again). Looked up once per request (kept on the request: an app context may
    outlive one)."""
    if not hasattr(request, "buyflow_buyer"):
        buyer = db.session.get(Buyer, session.get("buyer", 0))
        if buyer is not None and (session.get("epoch") != buyer.session_epoch
                                  or buyer.deactivated_at is not None
                                  or refusal_for_email(buyer.email) is not None):
            session.clear()
            buyer = None
        request.buyflow_buyer = buyer
    return request.buyflow_buyer


def buyer_required(view):
    """Send people who are not signed in to the sign-in page, then back."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_buyer() is None:
            return redirect(url_for("auth.sign_in_page", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper
