"""A business signs up as a seller: a signed-in person gives its name, its site's origin
and its default language, and becomes its first owner.

The owner's email is the person's own, verified by the code they signed in with; a ban
on any of their verified emails (or its domain, or the blacklist: ``people/bans.py``)
refuses the sign-up. The seller is made as the CLI makes one
(``sellers/accounts.create_seller``: its first API key and signing secret, shown once),
``pending`` until an operator approves it when ``SELLER_SIGNUP_NEEDS_APPROVAL``, else
``active`` at once. The seller, its owner and the audit entries are written to the
current transaction and flushed; the caller commits.
"""

from __future__ import annotations

from flask import current_app

from ..audit import record_action
from ..buyers.identity import verified_emails
from ..errors import CodedError
from ..i18n import supported_locale
from ..models import Buyer
from ..models.audit import Actor
from ..models.people import SellerRole
from ..models.sellers import SellerStatus
from ..sellers.accounts import NewSeller, create_seller
from ..sellers.urls import UrlRefused, normalize_origin
from .bans import refusal_for_email
from .memberships import add_member

NAME_MAX_LENGTH = 200

REFUSALS = {
    "name_required": "a seller needs a name",
    "name_too_long": f"a seller's name is at most {NAME_MAX_LENGTH} characters",
    "invalid_origin": "the site's origin is scheme://host[:port], http or https",
    "invalid_locale": "not a language this service speaks",
    "banned": "this person may not sign up a seller",
    "not_a_person": "a deleted or deactivated account cannot sign up a seller",
}


class SignUpRefused(CodedError):
    """A sign-up refused before anything was written: ``code`` is one of ``REFUSALS``;
    for ``banned``, ``ban_code`` is the ban's own code (``people/bans.py``)."""

    http_status = 422

    def __init__(self, code: str, ban_code: str | None = None):
        super().__init__(code, REFUSALS[code], 403 if code == "banned" else None)
        self.ban_code = ban_code


def checked_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise SignUpRefused("name_required")
    if len(name) > NAME_MAX_LENGTH:
        raise SignUpRefused("name_too_long")
    return name


def checked_origin(origin: str) -> str:
    try:
        return normalize_origin(origin or "")
    except UrlRefused:
        raise SignUpRefused("invalid_origin") from None


def ban_refusal(person: Buyer) -> str | None:
    """The ban's code if any of ``person``'s verified emails may not come in, else None."""
    for email in verified_emails(person):
        if (code := refusal_for_email(email)) is not None:
            return code
    return None


def sign_up(person: Buyer, *, name: str, origin: str, default_locale: str,
            actor: Actor) -> NewSeller:
    """Make a seller named ``name`` for the site at ``origin`` with ``person`` as its
    owner; returns it with its secrets (to be shown once)."""
    if person.deleted_at is not None or person.deactivated_at is not None:
        raise SignUpRefused("not_a_person")
    name, origin = checked_name(name), checked_origin(origin)
    locale = supported_locale(default_locale)
    if locale is None or locale != default_locale:
        raise SignUpRefused("invalid_locale")
    if (code := ban_refusal(person)) is not None:
        raise SignUpRefused("banned", code)
    new = create_seller(name, [origin], locale)
    seller = new.seller
    seller.status = (SellerStatus.PENDING if current_app.config["SELLER_SIGNUP_NEEDS_APPROVAL"]
                     else SellerStatus.ACTIVE)
    record_action("seller.signed_up", seller.public_id, actor=actor, seller=seller,
                  after={"name": seller.name, "origins": seller.origins,
                         "default_locale": locale, "status": str(seller.status)})
    add_member(seller, person, SellerRole.OWNER, actor=actor)
    return new
