"""A seller's team: who may add, change and remove whom; the last owner stays; the
ownership is handed over; every change is audited; two owners demoting each other at
once leave an owner."""

import threading

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, Membership
from buyflow.models.audit import SYSTEM, Actor
from buyflow.people import memberships
from buyflow.people.memberships import MembershipRefused, members_of
from tests.conftest import make_seller


@pytest.fixture
def shop(app_context):
    """Northwind with an owner, an admin, a support member and a viewer; and Ann, who is
    nobody there."""
    seller = make_seller()
    people = {}
    for role in ("owner", "admin", "support", "viewer"):
        person = Buyer(email=f"{role}@example.com")
        db.session.add(Membership(seller=seller, person=person, role=role))
        people[role] = person
    people["ann"] = Buyer(email="ann@example.com")
    db.session.add(people["ann"])
    db.session.commit()
    return seller, people


def _member(seller, person) -> Membership:
    return memberships.membership_of(seller, person)


def _refused(code, fn, *args, **kwargs):
    with pytest.raises(MembershipRefused) as refused:
        fn(*args, **kwargs)
    assert refused.value.code == code
    db.session.rollback()


def _actions():
    return [(e.action, e.before, e.after) for e in
            db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))]


def test_the_team_is_listed_owners_first(shop):
    seller, _people = shop
    assert [m.role for m in members_of(seller)] == ["owner", "admin", "support", "viewer"]


def test_an_admin_adds_members_but_not_owners(shop):
    seller, people = shop
    admin = _member(seller, people["admin"])
    actor = Actor.member(people["admin"])
    _refused("owner_only", memberships.add_member, seller, people["ann"], "owner", actor=actor,
             by=admin)
    membership = memberships.add_member(seller, people["ann"], "support", actor=actor,
                                        by=_member(seller, people["admin"]))
    db.session.commit()
    assert membership.role == "support"
    entry = db.session.scalar(db.select(AuditEntry))
    assert (entry.action, entry.subject, entry.seller_id, entry.buyer_id, entry.actor,
            entry.after) == ("member.added", str(people["ann"].id), seller.id,
                             people["ann"].id, actor, {"role": "support"})


def test_support_and_viewers_change_nothing_in_the_team(shop):
    seller, people = shop
    for role in ("support", "viewer"):
        by = _member(seller, people[role])
        _refused("not_allowed", memberships.add_member, seller, people["ann"], "viewer",
                 actor=SYSTEM, by=by)
        _refused("not_allowed", memberships.change_role, _member(seller, people["viewer"]),
                 "support", actor=SYSTEM, by=_member(seller, people[role]))
        _refused("not_allowed", memberships.remove_member, _member(seller, people["admin"]),
                 actor=SYSTEM, by=_member(seller, people[role]))
    assert _actions() == []


def test_an_unknown_role_and_a_member_twice_are_refused(shop):
    seller, people = shop
    _refused("unknown_role", memberships.add_member, seller, people["ann"], "boss",
             actor=SYSTEM)
    _refused("already_member", memberships.add_member, seller, people["viewer"], "admin",
             actor=SYSTEM)


def test_an_admin_changes_roles_of_non_owners_only(shop):
    seller, people = shop
    admin = lambda: _member(seller, people["admin"])  # noqa: E731
    assert memberships.change_role(_member(seller, people["viewer"]), "support",
                                   actor=Actor.member(people["admin"]), by=admin()) is True
    db.session.commit()
    assert _member(seller, people["viewer"]).role == "support"
    assert _actions() == [("member.role_changed", {"role": "viewer"}, {"role": "support"})]
    # the same role again writes nothing
    assert memberships.change_role(_member(seller, people["viewer"]), "support",
                                   actor=SYSTEM, by=admin()) is False
    _refused("owner_only", memberships.change_role, _member(seller, people["viewer"]),
             "owner", actor=SYSTEM, by=admin())
    _refused("owner_only", memberships.change_role, _member(seller, people["owner"]),
             "admin", actor=SYSTEM, by=admin())
    _refused("owner_only", memberships.change_role, admin(), "owner", actor=SYSTEM,
             by=admin())  # nobody makes themself an owner


def test_the_last_owner_is_never_demoted_removed_or_gone(shop):
    seller, people = shop
    owner = lambda: _member(seller, people["owner"])  # noqa: E731
    _refused("last_owner", memberships.change_role, owner(), "admin", actor=SYSTEM,
             by=owner())
    _refused("last_owner", memberships.remove_member, owner(), actor=SYSTEM, by=owner())
    _refused("last_owner", memberships.leave, owner(), actor=SYSTEM)
    _refused("last_owner", memberships.remove_member, owner(), actor=SYSTEM, by=None)
    assert owner().role == "owner"


def test_with_two_owners_one_may_step_down_or_leave(shop):
    seller, people = shop
    owner = lambda: _member(seller, people["owner"])  # noqa: E731
    memberships.change_role(_member(seller, people["admin"]), "owner", actor=SYSTEM,
                            by=owner())
    db.session.commit()
    memberships.leave(owner(), actor=Actor.member(people["owner"]))
    db.session.commit()
    assert owner() is None
    assert [a[0] for a in _actions()] == ["member.role_changed", "member.left"]


def test_an_owner_removes_an_owner_an_admin_may_not(shop):
    seller, people = shop
    memberships.change_role(_member(seller, people["admin"]), "owner", actor=SYSTEM, by=None)
    memberships.add_member(seller, people["ann"], "admin", actor=SYSTEM)
    db.session.commit()
    _refused("owner_only", memberships.remove_member, _member(seller, people["owner"]),
             actor=SYSTEM, by=_member(seller, people["ann"]))
    memberships.remove_member(_member(seller, people["admin"]), actor=SYSTEM,
                              by=_member(seller, people["owner"]))
    db.session.commit()
    assert _member(seller, people["admin"]) is None
    assert _actions()[-1] == ("member.removed", {"role": "owner"}, None)


def test_any_member_may_leave(shop):
    seller, people = shop
    memberships.leave(_member(seller, people["viewer"]), actor=Actor.member(people["viewer"]))
    db.session.commit()
    assert _member(seller, people["viewer"]) is None


def test_the_ownership_is_handed_over(shop):
    seller, people = shop
    memberships.transfer_ownership(_member(seller, people["owner"]),
                                   _member(seller, people["viewer"]),
                                   actor=Actor.member(people["owner"]))
    db.session.commit()
    assert _member(seller, people["viewer"]).role == "owner"
    assert _member(seller, people["owner"]).role == "admin"
    entry = db.session.scalar(db.select(AuditEntry))
    assert (entry.action, entry.subject, entry.before, entry.after) == (
        "member.ownership_transferred", str(people["viewer"].id),
        {"from_role": "owner", "to_role": "viewer"}, {"from_role": "admin", "to_role": "owner"})


def test_only_an_owner_hands_the_ownership_over_to_another_member(shop):
    seller, people = shop
    other = make_seller(name="Other", api_key="sk_test_other2")
    db.session.add(Membership(seller=other, person=people["ann"], role="viewer"))
    db.session.commit()
    _refused("not_an_owner", memberships.transfer_ownership, _member(seller, people["admin"]),
             _member(seller, people["viewer"]), actor=SYSTEM)
    _refused("same_person", memberships.transfer_ownership, _member(seller, people["owner"]),
             _member(seller, people["owner"]), actor=SYSTEM)
    _refused("not_a_member", memberships.transfer_ownership, _member(seller, people["owner"]),
             _member(other, people["ann"]), actor=SYSTEM)
    assert _member(seller, people["owner"]).role == "owner"


def test_two_owners_demoting_each_other_at_once_leave_an_owner(app):
    with app.app_context():
        seller = make_seller()
        a, b = Buyer(email="a@example.com"), Buyer(email="b@example.com")
        db.session.add_all([Membership(seller=seller, person=a, role="owner"),
                            Membership(seller=seller, person=b, role="owner")])
        db.session.commit()
        pairs = [(m.id, o.id) for m, o in [
            (_member(seller, a), _member(seller, b)), (_member(seller, b), _member(seller, a))]]
        db.session.remove()
    barrier = threading.Barrier(2)
    outcomes = []

    def demote(by_id, target_id):
        with app.app_context():
            by, target = db.session.get(Membership, by_id), db.session.get(Membership, target_id)
            barrier.wait()
            try:
                memberships.change_role(target, "admin", actor=SYSTEM, by=by)
                db.session.commit()
                outcomes.append("demoted")
            except MembershipRefused as exc:
                db.session.rollback()
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=demote, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The second to take the team's lock is no owner any more, or the last one.
    assert sorted(outcomes)[0] == "demoted" and sorted(outcomes)[1] in ("last_owner",
                                                                         "owner_only")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Membership.id))
                                 .where(Membership.role == "owner")) == 1
        db.session.remove()
