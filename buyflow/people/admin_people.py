"""What operators do to a person's account from the admin: deactivate and reactivate it,
add an email (verified or not), mark one verified by hand, remove one.

The rules (``PersonRefused`` names each refusal):

- an operator never deactivates themself, nor the last operator who can sign in
  (``buyflow.people.operators``: the service always keeps one); a deactivated person is
  signed out everywhere at once (their session epoch moves on, so reactivating them
  later revives no old session) and cannot sign in until reactivated;
- a deleted account is never changed;
- an email that is another person's — their primary, or an other email they verified —
  is refused: an operator does not move what someone proved is theirs (and cannot
  merge accounts as the person's own code does, ``buyflow.buyers.emails``); an email
  another person added but never verified proves nothing and moves, as there;
- marking verified by hand is refused for an email that is another person's primary
  (two accounts would then own it);
- the primary email is not an other email: it is never removed.

Every change adds its audit entry, naming the operator, to the current transaction and
flushes; the caller commits.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..audit import record_action
from ..buyers.audit import record_change
from ..buyers.identity import normalized_email
from ..errors import CodedError
from ..extensions import db
from ..locks import locked
from ..models import Buyer, BuyerEmail
from ..models._base import utcnow
from ..models.audit import Actor
from .operators import is_last_operator


class PersonRefused(CodedError):
    """Codes: ``yourself`` (an operator deactivating themself), ``last_operator``,
    ``deleted`` (the account was deleted), ``invalid_email``, ``already_theirs`` (the
    email is the person's already), ``other_person`` (it is another person's primary or
    verified email), ``already_verified``."""

    http_status = 422

    def __init__(self, code: str):
        super().__init__(code, code)


def _check_not_deleted(person: Buyer) -> None:
    if person.deleted_at is not None:
        raise PersonRefused("deleted")


def deactivate(person: Buyer, *, actor: Actor, by: Buyer, reason: str | None = None) -> bool:
    """Deactivate ``person`` (``by``: the operator acting) and end all their sessions;
    False when they were deactivated already (nothing written)."""
    if person.id == by.id:
        raise PersonRefused("yourself")
    _check_not_deleted(person)
    if person.deactivated_at is not None:
        return False
    if person.is_operator:
        # Two operators deactivating each other at once: every operator row is locked
        # in id order (PostgreSQL; the database's write lock on SQLite) before counting,
        # as operators.revoke_operator does.
        db.session.scalars(db.select(Buyer.id).where(Buyer.is_operator.is_(True))
                           .order_by(Buyer.id).with_for_update()).all()
    person = locked(Buyer, person.id)
    if person.deactivated_at is not None:
        return False
    if is_last_operator(person):
        raise PersonRefused("last_operator")
    person.deactivated_at = utcnow()
    person.session_epoch += 1  # signed out everywhere, for good
    record_action("person.deactivated", str(person.id), actor=actor, buyer=person,
                  before={"deactivated": False}, after={"deactivated": True},
                  reason=reason or None, email=person.email)
    db.session.flush()
    return True


def reactivate(person: Buyer, *, actor: Actor) -> bool:
    """Let ``person`` sign in again; False when they were not deactivated."""
    _check_not_deleted(person)
    person = locked(Buyer, person.id)
    if person.deactivated_at is None:
        return False
    person.deactivated_at = None
    record_action("person.reactivated", str(person.id), actor=actor, buyer=person,
                  before={"deactivated": True}, after={"deactivated": False},
                  email=person.email)
    db.session.flush()
    return True


def _owner_of(email: str, person: Buyer) -> Buyer | None:
    """Another person whose primary email is ``email``, if any."""
    return db.session.scalar(db.select(Buyer).where(Buyer.email == email,
                                                    Buyer.id != person.id))


def add_email(person: Buyer, email: str, *, verified: bool, actor: Actor) -> BuyerEmail:
    """Add ``email`` (normalized) to ``person``'s other emails, ``verified`` or not."""
    _check_not_deleted(person)
    email = normalized_email(email or "")
    if email is None:
        raise PersonRefused("invalid_email")
    if email == person.email or any(row.email == email for row in person.emails):
        raise PersonRefused("already_theirs")
    if _owner_of(email, person) is not None:
        raise PersonRefused("other_person")
    row = db.session.scalar(db.select(BuyerEmail).filter_by(email=email).with_for_update())
    if row is not None and row.verified_at is not None:
        raise PersonRefused("other_person")
    if row is None:
        row = BuyerEmail(email=email)
    else:  # another person's unverified email moves here; their log says so
        record_change(row.buyer, "email.removed", row.public_id, actor=actor, email=email,
                      verified=False, reason="added_by_another_account")
    row.buyer = person
    row.verified_at = utcnow() if verified else None
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # added elsewhere at this very moment
        db.session.rollback()
        raise PersonRefused("other_person") from None
    record_change(person, "email.added", row.public_id, actor=actor, email=email,
                  verified=verified)
    db.session.flush()
    return row


def mark_verified(person: Buyer, row: BuyerEmail, *, actor: Actor) -> None:
    """Mark ``person``'s other email ``row`` verified, as if they had entered its code."""
    _check_not_deleted(person)
    if row.verified_at is not None:
        raise PersonRefused("already_verified")
    if _owner_of(row.email, person) is not None:
        raise PersonRefused("other_person")
    row.verified_at = utcnow()
    record_change(person, "email.verified", row.public_id, actor=actor, email=row.email,
                  by_hand=True)
    db.session.flush()


def remove_email(person: Buyer, row: BuyerEmail, *, actor: Actor) -> None:
    """Remove ``person``'s other email ``row`` (verified or not)."""
    _check_not_deleted(person)
    person.emails.remove(row)
    record_change(person, "email.removed", row.public_id, actor=actor, email=row.email,
                  verified=row.verified_at is not None)
    db.session.flush()
