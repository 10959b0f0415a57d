"""The operator admin's bans and blacklist pages: an operator bans and lifts, adds and
removes patterns, checks an email; bad input is refused clearly and changes nothing."""

import html

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Ban, BlacklistPattern, Buyer
from buyflow.people.bans import refusal_for_email
from tests.management.conftest import form_post


@pytest.fixture
def operator_client(client, team, as_person):
    as_person(team.operator)
    return client


def _count(in_app, model):
    return in_app(lambda: db.session.scalar(db.select(db.func.count()).select_from(model)))


def _text(response) -> str:
    return html.unescape(response.text)


def test_an_operator_bans_a_domain_and_it_is_refused(operator_client, in_app):
    response = form_post(operator_client, "/admin/bans/new", {
        "kind": "domain", "value": "Fraud.Example", "reason": "card testing"})
    assert response.status_code == 303 and response.location.endswith("/admin/bans")
    page = operator_client.get("/admin/bans")
    assert "Banned: fraud.example." in _text(page)
    assert "fraud.example" in page.text and "card testing" in page.text
    assert "by operator@buyflow.test" in page.text
    assert in_app(lambda: refusal_for_email("ann@shop.fraud.example")) == "domain_banned"
    entry = in_app(lambda: db.session.scalar(db.select(AuditEntry)))
    assert (entry.action, entry.actor_type, entry.reason) == ("ban.added", "operator",
                                                             "card testing")


def test_a_person_is_banned_by_their_email(operator_client, team, in_app):
    response = form_post(operator_client, "/admin/bans/new", {
        "kind": "person", "value": team.buyer.upper(), "reason": "chargebacks"})
    assert response.status_code == 303
    ban = in_app(lambda: db.session.scalar(db.select(Ban)))
    person_id = in_app(lambda: db.session.scalar(
        db.select(Buyer.id).filter_by(email=team.buyer)))
    assert (ban.kind, ban.value, ban.buyer_id) == ("person", team.buyer, person_id)
    page = operator_client.get("/admin/bans")
    assert f'href="/admin/people/{person_id}"' in page.text


def test_a_person_who_does_not_exist_cannot_be_banned(operator_client, in_app):
    response = form_post(operator_client, "/admin/bans/new", {
        "kind": "person", "value": "nobody@example.com", "reason": "x"})
    assert response.status_code == 422
    assert "No person has this email" in _text(response)
    assert 'aria-invalid="true"' in response.text
    assert _count(in_app, Ban) == 0


@pytest.mark.parametrize("data, message", [
    ({}, "Enter the email or the domain to ban."),
    ({"kind": "domain", "value": "shop.example"}, "Say why: other operators will read it."),
    ({"kind": "planet", "value": "mars", "reason": "x"}, "Not a valid choice"),
    ({"kind": "domain", "value": "not a domain", "reason": "x"},
     "Please enter a domain such as example.com"),
    ({"kind": "email", "value": "not-an-email", "reason": "x"},
     "Please enter a valid email address."),
    ({"kind": "email", "value": "Operator@Buyflow.test", "reason": "x"},
     "You cannot ban yourself"),
    ({"kind": "domain", "value": "buyflow.test", "reason": "x"}, "You cannot ban yourself"),
    ({"kind": "person", "value": "operator@buyflow.test", "reason": "x"},
     "You cannot ban yourself"),
])
def test_bad_bans_are_refused_and_change_nothing(operator_client, in_app, data, message):
    response = form_post(operator_client, "/admin/bans/new", data)
    assert response.status_code in (400, 422)
    assert message in _text(response)
    assert _count(in_app, Ban) == 0 and _count(in_app, AuditEntry) == 0


def test_the_same_ban_twice_is_refused(operator_client, in_app):
    data = {"kind": "email", "value": "spam@example.com", "reason": "spam"}
    assert form_post(operator_client, "/admin/bans/new", data).status_code == 303
    again = form_post(operator_client, "/admin/bans/new", data)
    assert again.status_code == 422 and "This is already in force." in again.text
    assert _count(in_app, Ban) == 1


def test_lifting_a_ban(operator_client, in_app):
    form_post(operator_client, "/admin/bans/new",
              {"kind": "email", "value": "spam@example.com", "reason": "spam"})
    ban_id = in_app(lambda: db.session.scalar(db.select(Ban.public_id)))
    response = form_post(operator_client, f"/admin/bans/{ban_id}/lift", {"reason": "appeal"})
    assert response.status_code == 303
    assert in_app(lambda: refusal_for_email("spam@example.com")) is None
    operator_client.get("/admin/bans")  # the flash
    assert "No ban matches." in operator_client.get("/admin/bans").text
    lifted = operator_client.get("/admin/bans?state=lifted")
    assert "spam@example.com" in lifted.text and "Lifted" in lifted.text
    again = form_post(operator_client, f"/admin/bans/{ban_id}/lift")
    assert again.status_code == 422 and "This ban was lifted already." in again.text
    assert form_post(operator_client, "/admin/bans/ban_nothing/lift").status_code == 404
    entries = in_app(lambda: [(e.action, e.reason) for e in db.session.scalars(
        db.select(AuditEntry).order_by(AuditEntry.id))])
    assert entries == [("ban.added", "spam"), ("ban.lifted", "appeal")]


def test_the_list_is_filtered_and_paged(operator_client, in_app, monkeypatch):
    from management.admin import bans as page

    monkeypatch.setattr(page, "PAGE_SIZE", 2)

    def make():
        for n in range(3):
            db.session.add(Ban(kind="email", value=f"spam{n}@example.com", reason=""))
        db.session.add(Ban(kind="domain", value="junk.example", reason=""))
        db.session.commit()

    in_app(make)
    first = operator_client.get("/admin/bans")
    assert "junk.example" in first.text and "spam2@example.com" in first.text
    assert "spam1@example.com" not in first.text
    after = in_app(lambda: db.session.scalar(db.select(Ban.public_id).filter_by(
        value="spam2@example.com")))
    assert f"after={after}" in first.text
    second = operator_client.get(f"/admin/bans?state=in_force&after={after}")
    assert "spam1@example.com" in second.text and "spam0@example.com" in second.text
    assert "junk.example" not in second.text
    domains = operator_client.get("/admin/bans?kind=domain")
    assert "junk.example" in domains.text and "spam0@" not in domains.text
    searched = operator_client.get("/admin/bans?q=SPAM1")
    assert "spam1@example.com" in searched.text and "spam0@" not in searched.text
    assert operator_client.get("/admin/bans?after=ban_nothing").status_code == 404


def test_the_people_pages_may_prefill_a_person_ban(operator_client):
    page = operator_client.get("/admin/bans?ban_kind=person&value=eve%40example.com")
    assert 'value="eve@example.com"' in page.text
    assert '<option selected value="person">' in page.text


# --- the blacklist --------------------------------------------------------------------


def test_adding_and_removing_a_pattern(operator_client, in_app):
    response = form_post(operator_client, "/admin/blacklist/new", {
        "pattern": r".*@(spam|junk)\.example", "reason": "bots"})
    assert response.status_code == 303
    page = operator_client.get("/admin/blacklist")
    assert r".*@(spam|junk)\.example" in _text(page) and "bots" in page.text
    assert in_app(lambda: refusal_for_email("a@junk.example")) == "email_blacklisted"
    pattern_id = in_app(lambda: db.session.scalar(db.select(BlacklistPattern.public_id)))
    removed = form_post(operator_client, f"/admin/blacklist/{pattern_id}/remove")
    assert removed.status_code == 303
    assert in_app(lambda: refusal_for_email("a@junk.example")) is None
    page = _text(operator_client.get("/admin/blacklist"))
    assert "No pattern is in force." in page and "Removed lately" in page
    again = form_post(operator_client, f"/admin/blacklist/{pattern_id}/remove")
    assert again.status_code == 422 and "This pattern was removed already." in again.text
    assert form_post(operator_client, "/admin/blacklist/bl_nothing/remove").status_code == 404
    entries = in_app(lambda: [e.action for e in db.session.scalars(
        db.select(AuditEntry).order_by(AuditEntry.id))])
    assert entries == ["blacklist.added", "blacklist.removed"]


@pytest.mark.parametrize("data, message", [
    ({}, "Enter a regular expression."),
    ({"pattern": "(unclosed", "reason": "x"},
     "This is not a valid regular expression: missing ), unterminated subpattern"),
    ({"pattern": r"(a+)+@x\.example", "reason": "x"}, "could take very long to match"),
    ({"pattern": r".*@buyflow\.test", "reason": "x"}, "You cannot ban yourself"),
    ({"pattern": "x" * 501, "reason": "x"}, "Field cannot be longer than 500 characters."),
])
def test_bad_patterns_are_refused_and_change_nothing(operator_client, in_app, data, message):
    response = form_post(operator_client, "/admin/blacklist/new", data)
    assert response.status_code in (400, 422)
    assert message in _text(response)
    assert 'aria-invalid="true"' in response.text
    assert _count(in_app, BlacklistPattern) == 0 and _count(in_app, AuditEntry) == 0


def test_the_check_box_says_whether_and_why_an_email_is_refused(operator_client, in_app):
    form_post(operator_client, "/admin/blacklist/new", {"pattern": r"bot\d+@.*", "reason": "x"})
    form_post(operator_client, "/admin/bans/new",
              {"kind": "domain", "value": "fraud.example", "reason": "x"})
    refused = _text(operator_client.get("/admin/blacklist?check_email=Bot42%40mail.example"))
    assert "Refused: a pattern of the blacklist matches it." in refused
    assert r"<li><code class=\"pattern\"".replace("\\", "") in refused
    domain = _text(operator_client.get("/admin/blacklist?check_email=a%40x.fraud.example"))
    assert "Refused: its domain is banned." in domain
    allowed = _text(operator_client.get("/admin/blacklist?check_email=ann%40example.com"))
    assert "Not refused." in allowed
    tried = _text(operator_client.get(
        "/admin/blacklist?check_email=ann%40example.com&check_pattern=ann%40.*"))
    assert "This pattern would refuse ann@example.com." in tried
    missed = _text(operator_client.get(
        "/admin/blacklist?check_email=bob%40example.com&check_pattern=ann%40.*"))
    assert "This pattern would not refuse bob@example.com." in missed
    broken = _text(operator_client.get(
        "/admin/blacklist?check_email=bob%40example.com&check_pattern=%5Ba"))
    assert "This is not a valid regular expression" in broken
    assert _count(in_app, BlacklistPattern) == 1  # trying adds nothing
