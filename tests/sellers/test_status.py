"""A seller's status: approved, suspended with a reason, reinstated, each with its audit
entry; what is refused; and why a seller that is not active is refused to buyers and to
its API (``refusal_for_seller``)."""

from __future__ import annotations

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer
from buyflow.models.audit import Actor
from buyflow.sellers.status import (
    SellerStatusRefused,
    approve,
    refusal_for_seller,
    reinstate,
    suspend,
)


@pytest.fixture
def operator(app_context):
    person = Buyer(email="operator@buyflow.test", is_operator=True)
    db.session.add(person)
    db.session.commit()
    return Actor.operator(person)


def entries():
    return [(e.action, e.actor_type, e.before, e.after, e.reason)
            for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))]


def test_a_pending_seller_is_approved(seller, operator):
    seller.status = "pending"
    db.session.commit()
    assert refusal_for_seller(seller) == "seller_not_approved"
    approve(seller, actor=operator)
    db.session.commit()
    assert seller.status == "active" and refusal_for_seller(seller) is None
    assert entries() == [("seller.approved", "operator",
                          {"status": "pending", "status_reason": None},
                          {"status": "active", "status_reason": None}, None)]
    assert db.session.scalar(db.select(AuditEntry.seller_id)) == seller.id


def test_suspended_with_its_reason_then_reinstated(seller, operator):
    suspend(seller, "  Chargebacks under review  ", actor=operator)
    db.session.commit()
    assert (seller.status, seller.status_reason) == ("suspended", "Chargebacks under review")
    assert refusal_for_seller(seller) == "seller_suspended"
    reinstate(seller, actor=operator)
    db.session.commit()
    assert (seller.status, seller.status_reason) == ("active", None)
    assert entries() == [
        ("seller.suspended", "operator", {"status": "active", "status_reason": None},
         {"status": "suspended", "status_reason": "Chargebacks under review"},
         "Chargebacks under review"),
        ("seller.reinstated", "operator",
         {"status": "suspended", "status_reason": "Chargebacks under review"},
         {"status": "active", "status_reason": None}, None),
    ]


def test_a_pending_seller_may_be_suspended_and_reinstating_makes_it_active(seller, operator):
    seller.status = "pending"
    db.session.commit()
    suspend(seller, "Not a real business", actor=operator)
    reinstate(seller, actor=operator)
    db.session.commit()
    assert seller.status == "active"


@pytest.mark.parametrize("status, change, code", [
    ("active", lambda s, a: approve(s, actor=a), "not_pending"),
    ("suspended", lambda s, a: approve(s, actor=a), "not_pending"),
    ("suspended", lambda s, a: suspend(s, "again", actor=a), "already_suspended"),
    ("active", lambda s, a: reinstate(s, actor=a), "not_suspended"),
    ("pending", lambda s, a: reinstate(s, actor=a), "not_suspended"),
    ("active", lambda s, a: suspend(s, "   ", actor=a), "reason_required"),
    ("active", lambda s, a: suspend(s, "", actor=a), "reason_required"),
    ("active", lambda s, a: suspend(s, "x" * 1001, actor=a), "reason_required"),
])
def test_what_is_refused_changes_nothing(seller, operator, status, change, code):
    seller.status = status
    db.session.commit()
    with pytest.raises(SellerStatusRefused) as refused:
        change(seller, operator)
    db.session.rollback()
    assert (refused.value.code, refused.value.http_status) == (code, 422)
    assert db.session.get(type(seller), seller.id).status == status
    assert entries() == []
