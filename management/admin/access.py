"""Who may open an operator's page: a signed-in operator (``Buyer.is_operator``)."""

from __future__ import annotations

import functools

from flask import abort, redirect, request, url_for

from buyflow.models.audit import Actor

from ..auth.sessions import current_buyer


def operator_page(view):
    """Signed out → the sign-in page, then back; not an operator → 403."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        person = current_buyer()
        if person is None:
            return redirect(url_for("auth.sign_in_page", next=request.full_path))
        if not person.is_operator:
            abort(403)
        return view(*args, **kwargs)

    wrapper.required_permission = "operator"
    return wrapper


def operator_actor() -> Actor:
    """The signed-in operator, as the audit log names them."""
    return Actor.operator(current_buyer())
