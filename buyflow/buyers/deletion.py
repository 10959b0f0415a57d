"""Deleting a buyer's account.

What must stop stops (payments still waiting for the buyer's bank are cancelled at the
provider); the cards are detached and the customer deleted at the provider; then, in one
transaction, personal data goes: the emails, saved cards, codes and refund-request
reasons. Orders, payments and refunds stay, because the shops' accounting needs them,
under an anonymous placeholder instead of the buyer's email.

Provider calls come first. If one fails nothing is anonymized yet, and deleting again
finishes the work (a card or customer already gone counts as done).

A person who is the last owner of a seller's team, or the service's last operator, is
refused first (``AccountDeletionRefused``): a seller must keep an owner and the service
an operator. Otherwise the person leaves every team and stops being an operator with the
account.
"""

from __future__ import annotations

import secrets

from sqlalchemy import or_

from ..errors import CodedError
from ..extensions import db
from ..models import (
    AuditEntry,
    Membership,
    Buyer,
    BuyerEmail,
    Card,
    Order,
    Payment,
    RefundRequest,
    SignInCode,
)
from ..models._base import utcnow
from ..payments import get_provider
from ..payments.service import record_charge_outcome
from ..payments.states import OPEN_PAYMENT_STATUSES, OrderStatus
from .audit import record_change
from .identity import verified_emails


def _buyers_orders(buyer: Buyer, emails: list[str]):
    return or_(Order.buyer_id == buyer.id, Order.buyer_email.in_(emails))


def _cancel_waiting_payments(buyer: Buyer, emails: list[str]) -> None:
    """Cancel at the provider every charge of the buyer's unpaid orders still waiting for
    them, so that nothing can be charged after the account is gone."""
    provider = get_provider()
    waiting = db.session.scalars(
        db.select(Payment).join(Order)
        .where(_buyers_orders(buyer, emails), Order.status == OrderStatus.PENDING,
               Payment.status.in_(OPEN_PAYMENT_STATUSES),
               Payment.provider_payment_ref.is_not(None))
    ).all()
    for payment in waiting:
        record_charge_outcome(payment, provider.cancel_charge(payment.provider_payment_ref))
        db.session.commit()


def anonymous_email() -> str:
    """A placeholder that is no one's address (``.invalid`` is reserved for that)."""
    return f"deleted-{secrets.token_hex(8)}@deleted.invalid"


class AccountDeletionRefused(CodedError):
    """``last_owner`` (of a seller's team) or ``last_operator`` (of the service)."""

    http_status = 409


def _check_may_leave(buyer: Buyer) -> None:
    from ..people.memberships import owner_count
    from ..people.operators import is_last_operator

    if is_last_operator(buyer):
        raise AccountDeletionRefused("last_operator", "the service's last operator")
    owned = db.session.scalars(db.select(Membership).filter_by(buyer_id=buyer.id,
                                                               role="owner")).all()
    if any(owner_count(membership.seller) == 1 for membership in owned):
        raise AccountDeletionRefused("last_owner", "the last owner of a seller's team")


def delete_account(buyer: Buyer) -> None:
    """Delete ``buyer``'s account as the module docstring says. Raises PaymentError when
    the provider cannot be reached (then nothing personal is erased yet), and
    AccountDeletionRefused, before anything is done, for a last owner or operator."""
    _check_may_leave(buyer)
    emails = verified_emails(buyer)  # an unverified email's orders may be someone else's
    _cancel_waiting_payments(buyer, emails)

    provider = get_provider()
    for card in buyer.cards:
        provider.detach_card(card.provider_method_ref)
    if buyer.provider_customer_ref:
        provider.delete_customer(buyer.provider_customer_ref)

    placeholder = anonymous_email()
    now = utcnow()
    order_ids = db.select(Order.id).where(_buyers_orders(buyer, emails)).scalar_subquery()
    # The shop's answer may quote the buyer: erased with their reason.
    db.session.execute(db.update(RefundRequest).where(RefundRequest.order_id.in_(order_ids))
                       .values(reason="", decline_reason=db.case(
                           (RefundRequest.decline_reason.is_not(None), ""))),
                       execution_options={"synchronize_session": False})
    # A receipt not mailed yet has no one to go to any more: marked done, never sent.
    db.session.execute(db.update(Order).where(_buyers_orders(buyer, emails))
                       .values(buyer_email=placeholder, buyer_id=buyer.id,
                               receipt_sent_at=db.func.coalesce(Order.receipt_sent_at, now)),
                       execution_options={"synchronize_session": False})
    every_email = [*emails, *(e.email for e in buyer.emails)]
    db.session.execute(db.delete(SignInCode).where(SignInCode.email.in_(every_email)))
    db.session.execute(db.delete(Card).where(Card.buyer_id == buyer.id))
    db.session.execute(db.delete(BuyerEmail).where(BuyerEmail.buyer_id == buyer.id))
    # What the log said about emails was personal too; what happened, and when, stays.
    db.session.execute(db.update(AuditEntry).where(AuditEntry.buyer_id == buyer.id,
                                                   AuditEntry.action.like("email.%"))
                       .values(detail={}))
    for membership in db.session.scalars(db.select(Membership).filter_by(buyer_id=buyer.id)):
        record_change(buyer, "member.left", membership.seller.public_id,
                      role=membership.role)
        db.session.delete(membership)
    buyer.is_operator = False
    buyer.email = placeholder
    buyer.provider_customer_ref = None
    buyer.deleted_at = now
    buyer.session_epoch += 1  # every session of the account ends
    record_change(buyer, "account.deleted", placeholder.split("@")[0])
    db.session.commit()
    db.session.expire_all()
