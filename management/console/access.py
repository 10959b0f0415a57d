"""Who may open a console page: a signed-in member of the seller the URL names, whose
role allows the page's permission (``buyflow/people/roles.py``). Checked on every route
by ``member_page``; every object a route names is looked up within the seller
(``seller_object``), so another seller's id is as unknown as a made-up one."""

from __future__ import annotations

import functools

from flask import abort, current_app, g, redirect, request, url_for

from buyflow.extensions import db
from buyflow.models import Membership, Seller
from buyflow.models.audit import Actor
from buyflow.people.roles import Permission, role_allows

from ..auth.sessions import current_buyer


def member_page(permission: Permission):
    """Let the view run only for a member of the URL's ``seller_id`` whose role allows
    ``permission``: signed out → the sign-in page, then back; no member of it (or no
    such seller) → 404, nothing revealed; a member whose role does not allow it → 403.
    The view gets no ``seller_id``: ``current_seller()`` is the seller."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, seller_id: str, **kwargs):
            person = current_buyer()
            if person is None:
                return redirect(url_for("auth.sign_in_page", next=request.full_path))
            membership = db.session.scalar(
                db.select(Membership).join(Seller, Seller.id == Membership.seller_id)
                .where(Seller.public_id == seller_id, Membership.buyer_id == person.id))
            if membership is None:
                abort(404)
            g.console_membership = membership
            if not role_allows(membership.role, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_permission = permission
        return wrapper

    return decorator


def current_membership() -> Membership:
    return g.console_membership


def current_seller() -> Seller:
    """The seller of the console page being served (after ``member_page``)."""
    return g.console_membership.seller


def allowed(permission: Permission | str) -> bool:
    """Whether the signed-in member may do what ``permission`` covers here (templates
    show only the links and buttons they may use)."""
    membership = g.get("console_membership")
    return membership is not None and role_allows(membership.role, Permission(permission))


def console_actor() -> Actor:
    """The signed-in member, as the audit log names them."""
    return Actor.member(current_buyer())


def seller_object(model, public_id: str, *, seller_column: str = "seller_id"):
    """``model``'s row with ``public_id`` if it is the current seller's, else 404."""
    found = db.session.scalar(db.select(model).where(
        model.public_id == public_id,
        getattr(model, seller_column) == current_seller().id))
    if found is None:
        abort(404)
    return found


def add_seller_id(endpoint: str, values: dict) -> None:
    """``url_for`` of a console page from a console page needs no ``seller_id``: the
    current seller's is filled in."""
    membership = g.get("console_membership")
    if membership is not None and "seller_id" not in values:
        if current_app.url_map.is_endpoint_expecting(endpoint, "seller_id"):
            values["seller_id"] = membership.seller.public_id
