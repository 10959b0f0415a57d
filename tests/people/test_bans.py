"""Bans and the blacklist: what they refuse, what they do not, and what an operator may
not do with them."""

import time

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, BuyerEmail
from buyflow.models._base import utcnow
from buyflow.people import bans
from buyflow.people.bans import BanRefused, refusal_for_email


@pytest.fixture
def operator(app_context):
    person = Buyer(email="op@buyflow.example", is_operator=True)
    db.session.add(person)
    db.session.commit()
    return person


def _person(email, *others, verified=True):
    person = Buyer(email=email)
    for other in others:
        person.emails.append(BuyerEmail(email=other, verified_at=utcnow() if verified else None))
    db.session.add(person)
    db.session.commit()
    return person


def test_nobody_is_refused_by_default(operator):
    assert refusal_for_email("ann@example.com") is None


def test_a_domain_ban_covers_its_subdomains_and_nothing_else(operator):
    bans.ban_domain("shop.test", operator=operator, reason="fraud")
    db.session.commit()
    assert refusal_for_email("a@shop.test") == "domain_banned"
    assert refusal_for_email("a@x.shop.test") == "domain_banned"
    assert refusal_for_email("A@X.Deep.SHOP.test ") == "domain_banned"
    assert refusal_for_email("a@notshop.test") is None
    assert refusal_for_email("a@shop.test.example") is None
    assert refusal_for_email("shop.test@example.com") is None


def test_a_domain_is_normalized_and_checked(operator):
    assert bans.ban_domain("@*.Bücher.DE", operator=operator).value == "bücher.de"
    assert bans.ban_domain("xn--fr-fka.example", operator=operator).value == "för.example"
    db.session.commit()
    assert refusal_for_email("ann@xn--bcher-kva.de") == "domain_banned"
    assert refusal_for_email("ann@shop.bücher.de") == "domain_banned"
    for bad in ("", "com", "a..b", "x@y.example", "-a.example", "a b.example", "x" * 300):
        with pytest.raises(BanRefused) as refused:
            bans.ban_domain(bad, operator=operator)
        assert refused.value.code == "invalid_domain", bad


def test_an_email_ban_covers_that_email_only(operator):
    bans.ban_email("Spam@Example.com", operator=operator)
    db.session.commit()
    assert refusal_for_email("spam@example.com") == "email_banned"
    assert refusal_for_email(" SPAM@example.COM") == "email_banned"
    assert refusal_for_email("spam2@example.com") is None
    with pytest.raises(BanRefused) as refused:
        bans.ban_email("not an email", operator=operator)
    assert refused.value.code == "invalid_email"


def test_a_person_ban_covers_every_verified_email_of_theirs(operator):
    person = _person("eve@example.com", "eve.other@example.com")
    unverified = _person("mallory@example.com", "someone.else@example.com", verified=False)
    bans.ban_person(person, operator=operator, reason="chargebacks")
    bans.ban_person(unverified, operator=operator)
    db.session.commit()
    assert refusal_for_email("eve@example.com") == "person_banned"
    assert refusal_for_email("Eve.Other@example.com") == "person_banned"
    assert refusal_for_email("mallory@example.com") == "person_banned"
    # An email the banned person added but never verified proves nothing about them.
    assert refusal_for_email("someone.else@example.com") is None


def test_a_person_ban_follows_them_and_keeps_the_email_they_had(operator):
    person = _person("eve@example.com")
    bans.ban_person(person, operator=operator)
    db.session.commit()
    person.email = "eve.new@example.com"  # made primary later: still them
    db.session.commit()
    assert refusal_for_email("eve.new@example.com") == "person_banned"
    assert refusal_for_email("eve@example.com") == "person_banned"


def test_a_person_ban_ends_their_sessions(operator):
    person = _person("eve@example.com")
    epoch = person.session_epoch
    bans.ban_person(person, operator=operator)
    db.session.commit()
    assert person.session_epoch == epoch + 1


def test_a_lifted_ban_no_longer_refuses(operator):
    person = _person("eve@example.com")
    made = [bans.ban_domain("shop.example", operator=operator),
            bans.ban_email("spam@example.com", operator=operator),
            bans.ban_person(person, operator=operator)]
    db.session.commit()
    for ban in made:
        bans.lift_ban(ban, operator=operator, reason="appeal")
    db.session.commit()
    for email in ("a@x.shop.example", "spam@example.com", "eve@example.com"):
        assert refusal_for_email(email) is None
    with pytest.raises(BanRefused) as refused:
        bans.lift_ban(made[0], operator=operator)
    assert refused.value.code == "already_lifted"
    # ... and the same may be banned again.
    bans.ban_domain("shop.example", operator=operator)
    db.session.commit()
    assert refusal_for_email("a@shop.example") == "domain_banned"


def test_the_same_ban_twice_is_refused(operator):
    person = _person("eve@example.com")
    bans.ban_domain("shop.example", operator=operator)
    bans.ban_email("spam@example.com", operator=operator)
    bans.ban_person(person, operator=operator)
    for again in (lambda: bans.ban_domain("SHOP.example", operator=operator),
                  lambda: bans.ban_email("Spam@example.com", operator=operator),
                  lambda: bans.ban_person(person, operator=operator)):
        with pytest.raises(BanRefused) as refused:
            again()
        assert refused.value.code == "already_banned"


def test_patterns_refuse_whole_emails_ignoring_case(operator):
    bans.add_pattern(r"[a-z]+\d{4,}@mailinator\.example", operator=operator, reason="bots")
    db.session.commit()
    assert refusal_for_email("bot12345@mailinator.example") == "email_blacklisted"
    assert refusal_for_email("BOT12345@Mailinator.example") == "email_blacklisted"
    assert refusal_for_email("bot123@mailinator.example") is None
    # Whole emails: a match inside is not enough.
    assert refusal_for_email("xbot12345@mailinator.example.org") is None


def test_a_removed_pattern_no_longer_refuses(operator):
    row = bans.add_pattern(r".*@spam\.example", operator=operator)
    db.session.commit()
    assert refusal_for_email("a@spam.example") == "email_blacklisted"
    bans.remove_pattern(row, operator=operator)
    db.session.commit()
    assert refusal_for_email("a@spam.example") is None
    with pytest.raises(BanRefused) as refused:
        bans.remove_pattern(row, operator=operator)
    assert refused.value.code == "already_removed"


@pytest.mark.parametrize("pattern", ["[a-z", "(unclosed", "*@x", "a{2,1}", "", "x" * 501])
def test_an_invalid_pattern_is_refused_with_its_error(operator, pattern):
    with pytest.raises(BanRefused) as refused:
        bans.add_pattern(pattern, operator=operator)
    assert refused.value.code == "invalid_pattern"
    assert refused.value.message  # the regular expression's own error
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize("pattern", [r"(a+)+@x\.example", r"(.*a)*@x", r"(a|aa)*@x",
                                     r"(\w+\.)+example\.com", r"\w*\w*\w*\w*\w*@x"])
def test_a_pattern_that_could_backtrack_for_ever_is_refused(operator, pattern):
    started = time.monotonic()
    with pytest.raises(BanRefused) as refused:
        bans.add_pattern(pattern, operator=operator)
    assert refused.value.code == "slow_pattern"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("pattern", [r"(?>\w+\.)+example\.com", r"(\w+\.)++example\.com",
                                     r".*@(spam|junk)\.example", r"[^@]+@[^@]+\.ru"])
def test_safe_shapes_of_those_patterns_are_taken(operator, pattern):
    bans.add_pattern(pattern, operator=operator)


def test_a_slow_pattern_already_stored_cannot_hang_a_check(operator):
    """An email is validated before any pattern sees it: at most 254 characters."""
    db.session.add(bans.BlacklistPattern(pattern=r"(?!)", reason=""))
    db.session.commit()
    assert refusal_for_email("a" * 400 + "@example.com") is None


def test_an_operator_cannot_ban_themselves(operator):
    operator.emails.append(BuyerEmail(email="op.other@elsewhere.example", verified_at=utcnow()))
    db.session.commit()
    attempts = [
        lambda: bans.ban_person(operator, operator=operator),
        lambda: bans.ban_email("OP@buyflow.example", operator=operator),
        lambda: bans.ban_email("op.other@elsewhere.example", operator=operator),
        lambda: bans.ban_domain("buyflow.example", operator=operator),
        lambda: bans.ban_domain("elsewhere.example", operator=operator),
        lambda: bans.add_pattern(r".*", operator=operator),
        lambda: bans.add_pattern(r"op@.*", operator=operator),
    ]
    for attempt in attempts:
        with pytest.raises(BanRefused) as refused:
            attempt()
        assert refused.value.code == "cannot_ban_yourself"
    assert refusal_for_email("op@buyflow.example") is None
    # Neighbours are fine.
    bans.ban_domain("notbuyflow.example", operator=operator)


def test_every_action_is_audited_as_the_operators(operator):
    person = _person("eve@example.com")
    ban = bans.ban_person(person, operator=operator, reason="chargebacks")
    bans.lift_ban(ban, operator=operator, reason="appeal")
    row = bans.add_pattern(r".*@spam\.example", operator=operator, reason="spam")
    bans.remove_pattern(row, operator=operator)
    db.session.commit()
    entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_type, e.actor_id, e.reason) for e in entries] == [
        ("ban.added", "operator", str(operator.id), "chargebacks"),
        ("ban.lifted", "operator", str(operator.id), "appeal"),
        ("blacklist.added", "operator", str(operator.id), "spam"),
        ("blacklist.removed", "operator", str(operator.id), None),
    ]
    assert entries[0].subject == ban.public_id and entries[0].buyer_id == person.id
    assert entries[0].after == {"kind": "person", "value": "eve@example.com", "in_force": True}
    assert entries[1].before == {"in_force": True} and entries[1].after == {"in_force": False}


def test_one_message_for_every_rule(app):
    with app.test_request_context():
        messages = {bans.refusal_message(code) for code in bans.REFUSAL_CODES}
    assert len(messages) == 1
    assert "cannot be used here" in messages.pop()
