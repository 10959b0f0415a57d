"""The audit log's actor: the buyer by default, or whoever else made the change."""

import pytest

from buyflow.buyers.audit import record_change
from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer
from buyflow.models.audit import SYSTEM, Actor, ActorType


@pytest.fixture
def ann(app_context):
    buyer = Buyer(email="ann@example.com", session_epoch=0)
    db.session.add(buyer)
    db.session.commit()
    return buyer


def test_a_change_is_the_buyers_own_unless_an_actor_is_named(ann, seller):
    record_change(ann, "card.added", "card_1", last4="4242")
    key = seller.api_keys[0]
    record_change(ann, "refund_request.declined", "rr_1", actor=Actor.api_key(key))
    record_change(ann, "refund_request.refunded", "rr_1", actor=SYSTEM)
    db.session.commit()
    entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.buyer_id, e.actor_type, e.actor_id, e.detail) for e in entries] == [
        (ann.id, "buyer", str(ann.id), {"last4": "4242"}),
        (ann.id, "api_key", str(key.id), {}),
        (ann.id, "system", None, {}),
    ]
    assert entries[0].actor == Actor.buyer(ann)


@pytest.mark.parametrize(("actor_type", "actor_id"), [(ActorType.SYSTEM, "1"),
                                                      (ActorType.BUYER, None),
                                                      (ActorType.MEMBER, None)])
def test_every_actor_but_the_system_says_which_one(actor_type, actor_id):
    with pytest.raises(ValueError):
        Actor(actor_type, actor_id)
