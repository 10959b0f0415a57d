"""Who an email belongs to: a buyer's primary email, or one of their verified others."""

from __future__ import annotations

import functools

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import CompoundSelect, Select, bindparam, select, union, update

from ..extensions import db
from ..models import Buyer, BuyerEmail
from ..models._base import insert_for


def normalized_email(email: str) -> str | None:
    """``email`` as we store it (trimmed, email_validator's normalized form, lower case),
    or None when it is not a valid address."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@functools.cache
def email_owners() -> CompoundSelect:
    """The ids of the buyers the email bound as ``email`` belongs to, as a query to use
    in others (which bind ``email``): whose primary email it is, or whose verified other
    email (an unverified one proves nothing). Built once: these queries run at every
    door, and building a query costs more than running it."""
    email = bindparam("email")
    return union(
        select(Buyer.id).where(Buyer.email == email),
        select(BuyerEmail.buyer_id).where(BuyerEmail.email == email,
                                          BuyerEmail.verified_at.is_not(None)))


@functools.cache
def _buyer_by_email() -> Select:
    return (select(Buyer).where(Buyer.id.in_(email_owners()))
            .order_by((Buyer.email == bindparam("email")).desc()).limit(1))


def buyer_by_email(email: str) -> Buyer | None:
    """The buyer whose primary or verified other email is ``email``, if any (the one
    whose primary it is first), in one query."""
    return db.session.scalar(_buyer_by_email(), {"email": email})


def buyer_for_email(email: str) -> Buyer:
    """``buyer_by_email``, or a new buyer with ``email`` as primary (written, not
    committed). Two first purchases of one email at once make one buyer: the insert
    does nothing when the other one's is there, and both use that."""
    buyer = buyer_by_email(email)
    if buyer is None:
        buyer = db.session.scalar(
            insert_for(db.session, Buyer).values(email=email, session_epoch=0)
            .on_conflict_do_nothing(index_elements=["email"]).returning(Buyer))
    if buyer is None:  # the other one's insert was first
        buyer = db.session.scalar(db.select(Buyer).filter_by(email=email))
    return buyer


def customer_key(buyer: Buyer) -> str:
    """The idempotency key that makes ``buyer``'s customer at the provider: the buyer
    row's (its id with its creation time: ids of deleted rows come back on SQLite), so two
    first checkouts of one buyer at once make one customer."""
    return f"buyflow-customer-{buyer.id}-{buyer.created_at.timestamp():.6f}"


def record_customer(buyer_id: int, customer_ref: str) -> None:
    """Record ``customer_ref`` as the buyer's customer at the provider, unless it has one
    already (made by another first checkout at the same moment, under the same key: the
    first reference is kept). Written, not committed; the buyer's loaded reference is
    expired, so it is read again when next used."""
    db.session.execute(update(Buyer).where(Buyer.id == buyer_id,
                                           Buyer.provider_customer_ref.is_(None))
                       .values(provider_customer_ref=customer_ref)
                       .execution_options(synchronize_session=False))
    buyer = db.session.identity_map.get(db.session.identity_key(Buyer, buyer_id))
    if buyer is not None:
        db.session.expire(buyer, ["provider_customer_ref"])


def verified_emails(buyer: Buyer) -> list[str]:
    """Every email that counts as the buyer's: the primary first, then verified others."""
    return [buyer.email, *(e.email for e in buyer.emails if e.verified_at is not None)]
