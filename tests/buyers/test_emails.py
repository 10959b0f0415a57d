"""A buyer's other emails: added unverified, verified by code or link, removed, made
primary; the same person's other account merged or refused; an audit entry per change."""

import pytest
import stripe

from buyflow.buyers.codes import CodeRefused, IssuedCode
from buyflow.buyers.emails import (
    EmailRefused,
    add_email,
    make_primary,
    remove_email,
    start_verification,
    verify_by_code,
    verify_by_link,
)
from buyflow.buyers.identity import buyer_by_email, verified_emails
from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, BuyerEmail, Card, Order, RefundRequest
from buyflow.models.audit import Actor
from buyflow.payments import get_provider


def make_buyer(email: str) -> Buyer:
    buyer = Buyer(email=email, session_epoch=0)
    db.session.add(buyer)
    db.session.commit()
    return buyer


def make_order(seller, buyer: Buyer, email: str, key: str) -> Order:
    order = Order(seller=seller, buyer=buyer, buyer_email=email, checkout_key=key,
                  amount=1450, currency="EUR", status="paid")
    db.session.add(order)
    db.session.commit()
    return order


def actions(buyer: Buyer) -> list[str]:
    return db.session.scalars(db.select(AuditEntry.action).filter_by(buyer_id=buyer.id)
                              .order_by(AuditEntry.id)).all()


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def added(buyer: Buyer, email: str) -> BuyerEmail:
    """``add_email`` as the emails page does it: committed."""
    row = add_email(buyer, email)
    db.session.commit()
    return row


def sent(row: BuyerEmail) -> IssuedCode:
    """``start_verification`` as the emails page does it: committed before it is mailed."""
    issued = start_verification(row)
    db.session.commit()
    return issued


@pytest.fixture
def ann(app_context):
    return make_buyer("ann@example.com")


def test_an_added_email_is_normalized_and_counts_only_once_verified(ann):
    row = added(ann, "  Ann.Work@Example.COM ")
    assert row.email == "ann.work@example.com" and row.verified_at is None
    assert verified_emails(ann) == ["ann@example.com"]
    assert buyer_by_email("ann.work@example.com") is None

    verify_by_code(ann, row, sent(row).code)
    assert row.verified_at is not None
    assert verified_emails(ann) == ["ann@example.com", "ann.work@example.com"]
    assert buyer_by_email("ann.work@example.com") == ann
    assert actions(ann) == ["email.added", "email.verified"]
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="email.verified"))
    assert entry.subject == row.public_id and entry.detail == {"email": "ann.work@example.com"}


def test_a_wrong_code_verifies_nothing(ann):
    row = added(ann, "ann.work@example.com")
    issued = sent(row)
    with pytest.raises(CodeRefused) as refused:
        verify_by_code(ann, row, wrong(issued.code))
    assert refused.value.code == "wrong_code"
    db.session.refresh(row)
    assert row.verified_at is None and actions(ann) == ["email.added"]
    verify_by_code(ann, row, issued.code)
    with pytest.raises(EmailRefused, match="already_verified"):
        verify_by_code(ann, row, issued.code)


@pytest.mark.parametrize("email, code", [
    ("not an email", "invalid_email"),
    ("ANN@example.com", "already_yours"),
])
def test_emails_that_cannot_be_added(ann, email, code):
    with pytest.raises(EmailRefused) as refused:
        add_email(ann, email)
    assert refused.value.code == code
    assert db.session.scalar(db.select(db.func.count(BuyerEmail.id))) == 0


def test_an_email_already_added_or_verified_elsewhere(ann):
    row = added(ann, "ann.work@example.com")
    with pytest.raises(EmailRefused, match="already_yours"):
        add_email(ann, "ann.work@example.com")
    verify_by_code(ann, row, sent(row).code)
    bob = make_buyer("bob@example.com")
    with pytest.raises(EmailRefused, match="taken"):
        add_email(bob, "ann.work@example.com")


def test_an_unverified_email_moves_to_whoever_adds_it_next(ann):
    mallory = make_buyer("mallory@example.com")
    squatted = added(mallory, "ann.work@example.com")
    row = added(ann, "ann.work@example.com")
    assert row.id == squatted.id and row.buyer_id == ann.id and mallory.emails == []
    assert actions(mallory) == ["email.added", "email.removed"]
    assert actions(ann) == ["email.added"]
    verify_by_code(ann, row, sent(row).code)
    assert buyer_by_email("ann.work@example.com") == ann


def test_verifying_the_email_of_an_account_made_by_checkout_merges_it(ann, seller,
                                                                      localstripe_url):
    shell = make_buyer("ann.work@example.com")
    shell.provider_customer_ref = get_provider().ensure_customer(shell.email, None)
    db.session.commit()
    customer, shell_id = shell.provider_customer_ref, shell.id
    order = make_order(seller, shell, shell.email, "k1")
    db.session.add(RefundRequest(order=order, buyer_id=shell.id, reason="Torn bag"))
    db.session.add(AuditEntry(buyer_id=shell.id, actor_type="buyer", actor_id=str(shell.id),
                              action="refund.requested", subject="rr_x"))
    db.session.commit()

    row = added(ann, "ann.work@example.com")
    verify_by_code(ann, row, sent(row).code)

    assert db.session.get(Buyer, shell_id) is None
    assert order.buyer_id == ann.id
    assert db.session.scalar(db.select(RefundRequest.buyer_id)) == ann.id
    assert actions(ann) == ["refund.requested", "email.added", "email.verified",
                            "account.merged"]
    # The same person did what the merged account did.
    assert {entry.actor for entry in db.session.scalars(db.select(AuditEntry))} == {
        Actor.buyer(ann)}
    merged = db.session.scalar(db.select(AuditEntry).filter_by(action="account.merged"))
    assert merged.detail == {"email": "ann.work@example.com", "orders": 1,
                             "refund_requests": 1}
    assert buyer_by_email("ann.work@example.com") == ann
    with pytest.raises(stripe.InvalidRequestError):
        get_provider().client.v1.customers.retrieve(customer)


@pytest.mark.parametrize("what_it_has", ["card", "email"])
def test_an_account_with_saved_things_is_not_merged(ann, seller, what_it_has):
    other = make_buyer("ann.work@example.com")
    if what_it_has == "card":
        other.cards.append(Card(provider="stripe", provider_method_ref="pm_x", brand="visa",
                                last4="4242", exp_month=12, exp_year=2034, is_default=True))
    else:
        other.emails.append(BuyerEmail(email="ann.old@example.com"))
    db.session.commit()
    order = make_order(seller, other, other.email, "k1")
    row = added(ann, "ann.work@example.com")
    issued = sent(row)

    with pytest.raises(EmailRefused, match="other_account"):
        verify_by_code(ann, row, issued.code)
    db.session.refresh(row)
    assert row.verified_at is None and order.buyer_id == other.id
    assert verified_emails(ann) == ["ann@example.com"]
    assert buyer_by_email("ann.work@example.com") == other
    assert actions(ann) == ["email.added"]

    # Once that account is emptied, the same code still works and merges it.
    other.cards.clear()
    other.emails.clear()
    db.session.commit()
    verify_by_code(ann, row, issued.code)
    assert order.buyer_id == ann.id and buyer_by_email("ann.work@example.com") == ann


def test_the_link_verifies_only_for_the_buyer_who_added_the_email(ann):
    row = added(ann, "ann.work@example.com")
    token = sent(row).link_token
    bob = make_buyer("bob@example.com")
    with pytest.raises(EmailRefused, match="not_yours"):
        verify_by_link(bob, token)
    assert verify_by_link(ann, token) == row and row.verified_at is not None
    with pytest.raises(CodeRefused, match="wrong_code"):
        verify_by_link(ann, token)  # once


def test_a_sign_in_code_cannot_verify_an_email(ann):
    from buyflow.buyers.codes import issue_code

    row = added(ann, "ann.work@example.com")
    sent(row)
    with pytest.raises(CodeRefused):
        verify_by_code(ann, row, issue_code("ann.work@example.com").code)


def test_a_removed_email_no_longer_counts(ann):
    row = added(ann, "ann.work@example.com")
    verify_by_code(ann, row, sent(row).code)
    remove_email(ann, row)
    db.session.commit()
    assert verified_emails(ann) == ["ann@example.com"]
    assert buyer_by_email("ann.work@example.com") is None
    assert actions(ann) == ["email.added", "email.verified", "email.removed"]
    assert db.session.scalar(db.select(db.func.count(BuyerEmail.id))) == 0


def test_making_an_email_primary_keeps_the_old_one_verified(ann):
    row = added(ann, "ann.work@example.com")
    with pytest.raises(EmailRefused, match="not_verified"):
        make_primary(ann, row)
    verify_by_code(ann, row, sent(row).code)
    squatter = make_buyer("mallory@example.com")
    added(squatter, "ann@example.com")  # added, never verified

    make_primary(ann, row)
    assert ann.email == "ann.work@example.com"
    assert verified_emails(ann) == ["ann.work@example.com", "ann@example.com"]
    assert buyer_by_email("ann@example.com") == ann == buyer_by_email("ann.work@example.com")
    assert squatter.emails == []
    assert actions(squatter) == ["email.added", "email.removed"]
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="email.made_primary"))
    assert entry.buyer_id == ann.id
    assert entry.detail == {"email": "ann.work@example.com", "previous": "ann@example.com"}


def test_the_providers_customer_gets_the_new_primary_email(ann):
    provider = get_provider()
    ann.provider_customer_ref = provider.ensure_customer(ann.email, None)
    db.session.commit()
    row = added(ann, "ann.work@example.com")
    verify_by_code(ann, row, sent(row).code)
    make_primary(ann, row)
    customer = provider.client.v1.customers.retrieve(ann.provider_customer_ref)
    assert customer.email == "ann.work@example.com"
