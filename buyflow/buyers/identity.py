"""Who an email belongs to: a buyer's primary email, or one of their verified others."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

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


def buyer_by_email(email: str) -> Buyer | None:
    """The buyer whose primary or verified other email is ``email``, if any."""
    buyer = db.session.scalar(db.select(Buyer).filter_by(email=email))
    if buyer is not None:
        return buyer
    return db.session.scalar(
        db.select(Buyer).join(BuyerEmail)
        .where(BuyerEmail.email == email, BuyerEmail.verified_at.is_not(None))
    )


def buyer_for_email(email: str) -> Buyer:
    """``buyer_by_email``, or a new buyer with ``email`` as primary (written, not
    committed). Two first purchases of one email at once make one buyer: the insert
    does nothing when the other one's is there, and both use that."""
    buyer = buyer_by_email(email)
    if buyer is None:
        db.session.execute(insert_for(db.session, Buyer).values(email=email, session_epoch=0)
                           .on_conflict_do_nothing(index_elements=["email"]))
        buyer = db.session.scalar(db.select(Buyer).filter_by(email=email))
    return buyer


def verified_emails(buyer: Buyer) -> list[str]:
    """Every email that counts as the buyer's: the primary first, then verified others."""
    return [buyer.email, *(e.email for e in buyer.emails if e.verified_at is not None)]
