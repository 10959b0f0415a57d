"""Operators: granted and revoked with an audit entry each; the service always keeps an
operator who can sign in, even when two revocations race."""

import threading

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer
from buyflow.models._base import utcnow
from buyflow.models.audit import SYSTEM, Actor
from buyflow.people.operators import (
    OperatorRefused,
    grant_operator,
    is_last_operator,
    refusal_message,
    revoke_operator,
)


def _person(email, **values):
    person = Buyer(email=email, **values)
    db.session.add(person)
    db.session.commit()
    return person


def test_granting_makes_an_operator_once_with_an_audit_entry(app_context):
    first, ann = _person("first@example.com", is_operator=True), _person("ann@example.com")
    assert grant_operator(ann, actor=Actor.operator(first)) is True
    assert grant_operator(ann, actor=Actor.operator(first)) is False  # already one
    db.session.commit()
    assert ann.is_operator
    entries = db.session.scalars(db.select(AuditEntry)).all()
    assert [(e.action, e.subject, e.buyer_id, e.actor, e.before, e.after) for e in entries] == [
        ("person.operator_granted", str(ann.id), ann.id, Actor.operator(first),
         {"is_operator": False}, {"is_operator": True})]


def test_a_deactivated_account_cannot_be_made_an_operator(app_context):
    gone = _person("gone@example.com", deactivated_at=utcnow())
    with pytest.raises(OperatorRefused) as refused:
        grant_operator(gone, actor=SYSTEM)
    assert refused.value.code == "not_a_person"
    assert not gone.is_operator


def test_revoking_an_operator_when_others_remain(app_context):
    first = _person("first@example.com", is_operator=True)
    second = _person("second@example.com", is_operator=True)
    assert revoke_operator(second, actor=Actor.operator(first)) is True
    db.session.commit()
    assert not second.is_operator
    entry = db.session.scalar(db.select(AuditEntry))
    assert (entry.action, entry.before, entry.after) == (
        "person.operator_revoked", {"is_operator": True}, {"is_operator": False})
    assert revoke_operator(second, actor=SYSTEM) is False  # not one any more


def test_the_last_operator_is_never_revoked_not_even_by_themself(app, app_context):
    only = _person("only@example.com", is_operator=True)
    assert is_last_operator(only)
    for actor in (Actor.operator(only), SYSTEM):
        with pytest.raises(OperatorRefused) as refused:
            revoke_operator(only, actor=actor)
        assert refused.value.code == "last_operator"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert refusal_message("last_operator").startswith("This is the last operator")
    db.session.rollback()
    assert db.session.get(Buyer, only.id).is_operator
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id))) == 0


def test_a_deactivated_operator_does_not_count_as_the_one_left(app_context):
    active = _person("active@example.com", is_operator=True)
    asleep = _person("asleep@example.com", is_operator=True, deactivated_at=utcnow())
    assert is_last_operator(active)
    with pytest.raises(OperatorRefused):
        revoke_operator(active, actor=SYSTEM)
    db.session.rollback()
    # The deactivated one may go: the active one stays.
    assert revoke_operator(db.session.get(Buyer, asleep.id), actor=SYSTEM) is True


def test_two_operators_revoking_each_other_at_once_leave_one(app, tmp_path):
    """Each revocation alone is allowed (two operators); together, the second one to
    take the lock counts one operator left and is refused."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///:memory:"):
        pytest.skip("needs a database shared between threads")
    with app.app_context():
        a, b = _person("a@example.com", is_operator=True), _person("b@example.com",
                                                                   is_operator=True)
        ids = [a.id, b.id]
        db.session.remove()
    barrier = threading.Barrier(2)
    outcomes = []

    def revoke(me, other):
        with app.app_context():
            person = db.session.get(Buyer, other)
            barrier.wait()
            try:
                revoke_operator(person, actor=Actor.operator(db.session.get(Buyer, me)))
                db.session.commit()
                outcomes.append("revoked")
            except OperatorRefused as exc:
                db.session.rollback()
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=revoke, args=(ids[0], ids[1])),
               threading.Thread(target=revoke, args=(ids[1], ids[0]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["last_operator", "revoked"]
    with app.app_context():
        left = db.session.scalars(db.select(Buyer.email).where(Buyer.is_operator)).all()
        assert len(left) == 1
        db.session.remove()
