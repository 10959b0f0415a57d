"""Signing a business up: the person becomes its owner; it is pending or active as the
setting says; its secrets are made as the CLI makes them; bad input and bans refuse it,
writing nothing."""

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Ban, Buyer, BuyerEmail, Membership, Seller
from buyflow.models._base import utcnow
from buyflow.models.audit import Actor
from buyflow.models.sellers import hash_api_key
from buyflow.people.signup import SignUpRefused, sign_up


@pytest.fixture
def ann(app_context):
    person = Buyer(email="ann@example.com")
    db.session.add(person)
    db.session.commit()
    return person


def _sign_up(person, **fields):
    values = {"name": "Ann's Beans", "origin": "https://Beans.Example:8443/",
              "default_locale": "fr", **fields}
    return sign_up(person, actor=Actor.member(person), **values)


@pytest.mark.parametrize("needs_approval, status", [(True, "pending"), (False, "active")])
def test_a_business_signs_up_with_its_owner(app, ann, monkeypatch, needs_approval, status):
    monkeypatch.setitem(app.config, "SELLER_SIGNUP_NEEDS_APPROVAL", needs_approval)
    new = _sign_up(ann, name="  Ann's   Beans ")
    db.session.commit()
    seller = db.session.get(Seller, new.seller.id)
    assert (seller.name, seller.origins, seller.default_locale, seller.status) == (
        "Ann's Beans", ["https://beans.example:8443"], "fr", status)
    assert seller.signing_secrets == [new.signing_secret]
    assert [k.key_hash for k in seller.api_keys] == [hash_api_key(new.api_key)]
    owner = db.session.scalar(db.select(Membership).filter_by(seller_id=seller.id))
    assert (owner.buyer_id, owner.role) == (ann.id, "owner")
    entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.seller_id, e.actor) for e in entries] == [
        ("seller.signed_up", seller.id, Actor.member(ann)),
        ("member.added", seller.id, Actor.member(ann))]
    assert entries[0].after == {"name": "Ann's Beans", "origins": ["https://beans.example:8443"],
                                "default_locale": "fr", "status": status}


@pytest.mark.parametrize("fields, code", [
    ({"name": "   "}, "name_required"),
    ({"name": "x" * 201}, "name_too_long"),
    ({"origin": "ftp://beans.example"}, "invalid_origin"),
    ({"origin": "https://beans.example/shop"}, "invalid_origin"),
    ({"origin": ""}, "invalid_origin"),
    ({"default_locale": "xx"}, "invalid_locale"),
    ({"default_locale": "fr-CA"}, "invalid_locale"),
])
def test_bad_input_is_refused_and_nothing_is_written(ann, fields, code):
    with pytest.raises(SignUpRefused) as refused:
        _sign_up(ann, **fields)
    assert refused.value.code == code
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Seller.id))) == 0


def test_a_ban_on_any_of_the_persons_emails_refuses_the_sign_up(ann):
    ann.emails.append(BuyerEmail(email="ann@work.example", verified_at=utcnow()))
    db.session.add(Ban(kind="domain", value="work.example"))
    db.session.commit()
    with pytest.raises(SignUpRefused) as refused:
        _sign_up(ann)
    assert (refused.value.code, refused.value.ban_code, refused.value.http_status) == (
        "banned", "domain_banned", 403)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Seller.id))) == 0


def test_a_deactivated_account_cannot_sign_up(ann):
    ann.deactivated_at = utcnow()
    with pytest.raises(SignUpRefused) as refused:
        _sign_up(ann)
    assert refused.value.code == "not_a_person"
