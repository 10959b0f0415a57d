"""A seller's status, set by operators: a signed-up seller waits ``pending`` until one
approves it (``active``); an operator may suspend it (with a reason its team is shown),
and reinstate it.

While a seller is not active, nobody can pay it and its API refuses:
``refusal_for_seller`` says why, by a stable code (``seller_suspended``,
``seller_not_approved``), which the buy flow shows buyers in their language and the API
answers with 403. Every change locks the seller's row, adds its audit entry (the status
before and after, the reason) to the current transaction and flushes; the caller
commits.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..audit import record_action
from ..errors import CodedError
from ..extensions import db
from ..locks import locked
from ..models import Seller
from ..models.audit import Actor
from ..models.sellers import SellerStatus

# The longest reason kept (a sentence or a short paragraph for the seller's team).
REASON_MAX_LENGTH = 1000


class SellerStatusRefused(CodedError):
    """A change of status the rules refuse. Codes: ``not_pending`` (only a pending seller
    is approved), ``already_suspended``, ``not_suspended`` (only a suspended seller is
    reinstated), ``reason_required`` (a suspension says why, in at most
    ``REASON_MAX_LENGTH`` characters)."""

    http_status = 422

    def __init__(self, code: str):
        super().__init__(code, ENGLISH[code])


ENGLISH = {
    "not_pending": "only a seller waiting for approval can be approved",
    "already_suspended": "the seller is suspended already",
    "not_suspended": "only a suspended seller can be reinstated",
    "reason_required": f"a suspension needs a reason of 1 to {REASON_MAX_LENGTH} characters",
    # What a seller that is not active is refused with (the API's messages).
    "seller_suspended": "This seller is suspended by the operators of this Buyflow service: "
                        "it cannot take payments and its API refuses until it is reinstated.",
    "seller_not_approved": "This seller is not approved yet by the operators of this Buyflow "
                           "service: it cannot take payments and its API refuses until then.",
}

MESSAGES = {
    "not_pending": _l("Only a seller waiting for approval can be approved."),
    "already_suspended": _l("This seller is suspended already."),
    "not_suspended": _l("Only a suspended seller can be reinstated."),
    "reason_required": _l("Say why the seller is suspended: its team will read it."),
}


def refusal_message(code: str) -> str:
    """The localized sentence for a ``SellerStatusRefused`` code, for the pages."""
    return str(MESSAGES[code])


def refusal_for_seller(seller: Seller) -> str | None:
    """Why nobody may pay ``seller`` nor use its API now: ``seller_suspended``,
    ``seller_not_approved``, or None when it is active."""
    if seller.status == SellerStatus.SUSPENDED:
        return "seller_suspended"
    if seller.status == SellerStatus.PENDING:
        return "seller_not_approved"
    return None


def api_refusal_message(code: str) -> str:
    """What the API says with a ``refusal_for_seller`` code (English, as all its
    messages)."""
    return ENGLISH[code]


def _change(seller: Seller, allowed_from: set[str], to: SellerStatus, refusal: str, *,
            action: str, actor: Actor, reason: str | None) -> Seller:
    seller = locked(Seller, seller.id)  # two operators at once: one after the other
    if seller.status not in allowed_from:
        raise SellerStatusRefused(refusal)
    before = {"status": seller.status, "status_reason": seller.status_reason}
    seller.status = to
    seller.status_reason = reason
    record_action(action, seller.public_id, actor=actor, seller=seller, before=before,
                  after={"status": str(to), "status_reason": reason}, reason=reason)
    db.session.flush()
    return seller


def approve(seller: Seller, *, actor: Actor) -> Seller:
    """A pending seller becomes active: buyers can pay it, its API answers."""
    return _change(seller, {SellerStatus.PENDING}, SellerStatus.ACTIVE, "not_pending",
                   action="seller.approved", actor=actor, reason=None)


def suspend(seller: Seller, reason: str, *, actor: Actor) -> Seller:
    """An active or pending seller is suspended, for ``reason`` (shown to its team, never
    to buyers): its flow and API refuse until it is reinstated."""
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX_LENGTH:
        raise SellerStatusRefused("reason_required")
    return _change(seller, {SellerStatus.ACTIVE, SellerStatus.PENDING},
                   SellerStatus.SUSPENDED, "already_suspended", action="seller.suspended",
                   actor=actor, reason=reason)


def reinstate(seller: Seller, *, actor: Actor) -> Seller:
    """A suspended seller becomes active again (a seller suspended while it waited for
    approval is approved by this too: an operator looked at it)."""
    return _change(seller, {SellerStatus.SUSPENDED}, SellerStatus.ACTIVE, "not_suspended",
                   action="seller.reinstated", actor=actor, reason=None)
