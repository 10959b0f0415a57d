"""A buyer's emails: the primary one, which names the account, and the others the buyer
adds, each counting (purchases, sign-in, checkout) only once verified by a one-time code
or link sent to it.

The rules:

- **Adding.** An email that is already the buyer's is refused, and so is one that another
  account has verified. An email another buyer added but never verified proves nothing
  about them, so it moves to whoever adds it now (else anyone could block an address by
  adding it first), and the previous holder's log says so.
- **Verifying.** The code or link is sent to the email; the link only works for the buyer
  who added the email (signed in), the code is entered on that buyer's page.
- **The same person's other account.** The buy flow makes a buyer for every email that
  ever checked out, and people sign in with an email before adding it elsewhere: the
  email being verified is often the primary email of another buyer. Knowing the code
  proves the same person owns both, so when that other buyer has no saved cards, no
  other emails, no credit, no place in a seller's team and is no operator, it is merged into this one in the verification's transaction: its
  orders, refund requests, codes and audit entries move over, an ``account.merged`` audit
  entry is written and its row is deleted (its sessions end with it). Its customer at the
  payment provider holds no saved card; it is deleted after the commit (the provider call
  never leaves the database half-merged; when it fails, it is logged and only an unused
  customer remains there). When the other buyer has any of those, the verification is
  refused and nothing changes: the person signs in with that email and
  removes them (or deletes that account) first, so nothing saved moves silently.
- **Removing** an other email (verified or not) is always possible; the primary is not
  an other email and cannot be removed.
- **Making primary** takes a verified email only; the old primary becomes a verified
  other email. The customer at the payment provider gets the new email after the commit.

Every change is written with its audit entry (``email.added``, ``email.verified``,
``account.merged``, ``email.removed``, ``email.made_primary``) and the caller commits it;
verifying and making primary commit themselves, as the phase boundary before the call
to the provider that follows.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from ..errors import CodedError
from ..extensions import db
from ..models import (
    AuditEntry,
    Buyer,
    BuyerEmail,
    LedgerAccount,
    Membership,
    Order,
    RefundRequest,
    SignInCode,
)
from ..models._base import utcnow
from ..models.audit import ActorType
from ..payments import get_provider
from ..payments.base import PaymentError
from ..people.bans import refusal_for_email
from .audit import record_change
from .codes import VERIFY_EMAIL, IssuedCode, confirm_code, confirm_link, issue_code
from .identity import normalized_email

log = logging.getLogger(__name__)


class EmailRefused(CodedError):
    """``code``: invalid_email, email_refused (banned or blacklisted:
    ``people/bans.py``), already_yours, taken (another account's verified email),
    other_account (the email names another account holding more than purchases: saved
    cards, other emails, credit, a team's place, the operator role),
    not_yours (a verification link of another buyer's email), already_verified,
    not_verified."""


def find_email(buyer: Buyer, email_id: str) -> BuyerEmail | None:
    """The buyer's other email with public id ``email_id``; None for anyone else's."""
    return db.session.scalar(db.select(BuyerEmail).filter_by(buyer_id=buyer.id,
                                                              public_id=email_id))


def add_email(buyer: Buyer, email: str) -> BuyerEmail:
    """Add ``email`` (normalized) to the buyer's emails, not yet verified (the caller
    commits)."""
    email = normalized_email(email)
    if email is None:
        raise EmailRefused("invalid_email")
    if refusal_for_email(email):
        raise EmailRefused("email_refused", http_status=403)
    if email == buyer.email or any(e.email == email for e in buyer.emails):
        raise EmailRefused("already_yours")
    row = db.session.scalar(db.select(BuyerEmail).filter_by(email=email).with_for_update())
    if row is not None and row.verified_at is not None:
        raise EmailRefused("taken")
    if row is None:
        row = BuyerEmail(email=email)
    else:  # another buyer's unverified email moves here; their log says so
        record_change(row.buyer, "email.removed", row.public_id, email=email, verified=False,
                      reason="added_by_another_account")
    row.buyer = buyer
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone added the same new email at the same moment: their row is unverified,
        # so, as the rules say, it moves here.
        db.session.rollback()
        return add_email(buyer, email)
    record_change(buyer, "email.added", row.public_id, email=email)
    return row


def start_verification(row: BuyerEmail) -> IssuedCode:
    """A new code and link for verifying ``row``; earlier ones stop working. The caller
    sends them to ``row.email``."""
    if row.verified_at is not None:
        raise EmailRefused("already_verified")
    return issue_code(row.email, VERIFY_EMAIL)


def verify_by_code(buyer: Buyer, row: BuyerEmail, code: str) -> None:
    """Verify the buyer's ``row`` with the ``code`` sent to it, and commit. CodeRefused
    for a wrong, expired or used-up code; EmailRefused when another account stands in the
    way (the code then stays usable)."""
    if row.verified_at is not None:
        raise EmailRefused("already_verified")
    _verify(buyer, row, confirm_code(row.email, code, VERIFY_EMAIL))


def verify_by_link(buyer: Buyer, link_token: str) -> BuyerEmail:
    """Verify the email whose link carries ``link_token``, and commit: only for the buyer
    who added it (EmailRefused not_yours otherwise, and the link stays usable)."""
    used = confirm_link(link_token, VERIFY_EMAIL)
    row = db.session.scalar(db.select(BuyerEmail).filter_by(buyer_id=buyer.id,
                                                            email=used.email))
    if row is None:
        db.session.rollback()
        raise EmailRefused("not_yours")
    if row.verified_at is not None:
        db.session.rollback()
        raise EmailRefused("already_verified")
    _verify(buyer, row, used)
    return row


def _verify(buyer: Buyer, row: BuyerEmail, used: SignInCode) -> None:
    other = db.session.scalar(db.select(Buyer).filter_by(email=row.email).with_for_update())
    if other is not None and _keeps_more_than_purchases(other):
        db.session.rollback()  # the code is not used up: it works once that is sorted out
        raise EmailRefused("other_account")
    used.buyer_id = buyer.id
    row.verified_at = utcnow()
    record_change(buyer, "email.verified", row.public_id, email=row.email)
    customer_to_delete = _merge(other, into=buyer, row=row) if other is not None else None
    db.session.commit()  # exception: the merge is kept before its customer is deleted
    if customer_to_delete:
        try:
            get_provider().delete_customer(customer_to_delete)
        except PaymentError:
            log.exception("could not delete the merged buyer's customer %s", customer_to_delete)


def _keeps_more_than_purchases(other: Buyer) -> bool:
    """Whether ``other`` holds what a merge would not move: saved cards, other emails,
    credit, a place in a seller's team, the operator role."""
    if other.cards or other.emails or other.is_operator:
        return True
    return any(db.session.scalar(db.select(model.id).filter_by(buyer_id=other.id).limit(1))
               is not None for model in (Membership, LedgerAccount))


def _merge(other: Buyer, into: Buyer, row: BuyerEmail) -> str | None:
    """Move everything of ``other`` (no cards, no other emails) to ``into`` and delete it,
    in the current transaction. Returns its provider customer, to delete after commit."""
    moved = {}
    for model in (Order, RefundRequest, SignInCode, AuditEntry):
        result = db.session.execute(db.update(model).where(model.buyer_id == other.id)
                                    .values(buyer_id=into.id))
        moved[model.__tablename__] = result.rowcount
    # What the other account did, this one did: one person, one actor.
    db.session.execute(db.update(AuditEntry)
                       .where(AuditEntry.actor_type == ActorType.BUYER,
                              AuditEntry.actor_id == str(other.id))
                       .values(actor_id=str(into.id)))
    record_change(into, "account.merged", row.public_id, email=row.email,
                  orders=moved["orders"], refund_requests=moved["refund_requests"])
    customer = other.provider_customer_ref
    db.session.delete(other)
    return customer


def remove_email(buyer: Buyer, row: BuyerEmail) -> None:
    """Forget the buyer's other email ``row``, verified or not: it no longer counts."""
    buyer.emails.remove(row)
    record_change(buyer, "email.removed", row.public_id, email=row.email,
                  verified=row.verified_at is not None)


def make_primary(buyer: Buyer, row: BuyerEmail) -> None:
    """Make the verified ``row`` the buyer's primary email, and commit; the old primary
    takes its place among the verified others."""
    if row.verified_at is None:
        raise EmailRefused("not_verified")
    previous, new = buyer.email, row.email
    # Someone else may have added the old primary without verifying it: that proves
    # nothing, and the email cannot be in two rows.
    unverified = db.session.scalar(db.select(BuyerEmail).filter_by(email=previous,
                                                                   verified_at=None))
    if unverified is not None:
        record_change(unverified.buyer, "email.removed", unverified.public_id, email=previous,
                      verified=False, reason="added_by_another_account")
        db.session.delete(unverified)
        db.session.flush()  # a flush deletes after it updates: gone before the swap
    buyer.email, row.email = new, previous
    record_change(buyer, "email.made_primary", row.public_id, email=new, previous=previous)
    db.session.commit()  # exception: the swap is kept before the provider gets the email
    if buyer.provider_customer_ref:
        try:
            get_provider().update_customer_email(buyer.provider_customer_ref, new)
        except PaymentError:  # only the provider's copy is stale; ours is the reference
            log.exception("could not give customer %s its new email",
                          buyer.provider_customer_ref)
