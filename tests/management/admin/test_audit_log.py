"""The operator admin's audit log: newest first, a page at a time, filtered by actor,
seller, action and dates; filters that cannot be understood are said, not a 500."""

import html
import re
from datetime import datetime, timedelta, timezone

import pytest

from buyflow.audit import record_action
from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, Seller
from buyflow.models.audit import SYSTEM, Actor
from tests.management.conftest import form_post


@pytest.fixture
def operator_client(client, team, as_person):
    as_person(team.operator)
    return client


def _text(response) -> str:
    return html.unescape(response.text)


@pytest.fixture
def log(in_app, team):
    """A few entries of every kind, at known times (ids in time order)."""

    def make():
        seller = db.session.scalar(db.select(Seller).filter_by(public_id=team.northwind))
        operator = db.session.scalar(db.select(Buyer).filter_by(email=team.operator))
        owner = db.session.scalar(db.select(Buyer).filter_by(email=team.emails["owner"]))
        buyer = db.session.scalar(db.select(Buyer).filter_by(email=team.buyer))
        day = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
        made = [
            record_action("seller.suspended", seller.public_id, actor=Actor.operator(operator),
                          seller=seller, before={"status": "active"},
                          after={"status": "suspended"}, reason="Unpaid fees"),
            record_action("member.invited", "inv_1", actor=Actor.member(owner), seller=seller,
                          email="new@northwind.test"),
            record_action("card.added", "card_1", actor=Actor.buyer(buyer), buyer=buyer),
            record_action("order.expired", "ord_1", actor=SYSTEM, seller=seller),
            record_action("ban.added", "ban_1", actor=Actor.operator(operator),
                          after={"kind": "domain", "value": "fraud.example"}),
        ]
        for n, entry in enumerate(made):
            entry.created_at = day + timedelta(days=n)
        db.session.commit()
        return {"operator": operator.id, "owner": owner.id}

    return in_app(make)


def _actions(response) -> list[str]:
    return re.findall(r"<th scope=\"row\"><code>([a-z_.]+)</code>", response.text)


def test_every_entry_newest_first_with_what_it_changed(operator_client, log, team):
    page = operator_client.get("/admin/audit-log")
    assert page.status_code == 200
    assert _actions(page) == ["ban.added", "order.expired", "card.added", "member.invited",
                              "seller.suspended"]
    text = _text(page)
    assert "Unpaid fees" in text and "Northwind Coffee" in text
    assert f'href="/admin/sellers/{team.northwind}"' in page.text
    assert f'href="/admin/people/{log["operator"]}"' in page.text and team.operator in text
    assert '<code dir="ltr">active</code>' in page.text
    assert '<code dir="ltr">suspended</code>' in page.text
    assert "new@northwind.test" in text  # the detail, when nothing says before and after


@pytest.mark.parametrize("query, actions", [
    ("actor_type=operator", ["ban.added", "seller.suspended"]),
    ("actor_type=system", ["order.expired"]),
    ("actor=owner%40northwind.test", ["member.invited"]),
    ("actor=OWNER%40northwind.test&actor_type=member", ["member.invited"]),
    ("actor_type=operator&action=seller.", ["seller.suspended"]),
    ("action=ban", ["ban.added"]),
    ("action=order.expired", ["order.expired"]),
    ("since=2026-03-11&until=2026-03-12", ["card.added", "member.invited"]),
    ("since=2026-03-14", ["ban.added"]),
    ("until=2026-03-10", ["seller.suspended"]),
    ("actor_type=buyer&actor=operator%40buyflow.test", []),
])
def test_filters(operator_client, log, query, actions):
    page = operator_client.get(f"/admin/audit-log?{query}")
    assert page.status_code == 200
    assert _actions(page) == actions
    if not actions:
        assert "No entry matches." in page.text


def test_filter_by_seller_and_actor_id(operator_client, log, team):
    page = operator_client.get(f"/admin/audit-log?seller={team.northwind}")
    assert _actions(page) == ["order.expired", "member.invited", "seller.suspended"]
    page = operator_client.get(f"/admin/audit-log?seller={team.other}")
    assert _actions(page) == []
    page = operator_client.get(f"/admin/audit-log?actor={log['owner']}")
    assert _actions(page) == ["member.invited"]


def test_pages_go_back_in_time(operator_client, log, monkeypatch):
    from management.admin import audit_log

    monkeypatch.setattr(audit_log, "PAGE_SIZE", 2)
    first = operator_client.get("/admin/audit-log?actor_type=operator")
    assert _actions(first) == ["ban.added", "seller.suspended"]
    assert "Older entries" not in first.text
    first = operator_client.get("/admin/audit-log")
    assert _actions(first) == ["ban.added", "order.expired"]
    older = html.unescape(re.search(r'href="([^"]*before=[^"]*)"', first.text).group(1))
    second = operator_client.get(older)
    assert _actions(second) == ["card.added", "member.invited"]
    third = operator_client.get(
        html.unescape(re.search(r'href="([^"]*before=[^"]*)"', second.text).group(1)))
    assert _actions(third) == ["seller.suspended"]


def test_the_pages_keep_the_filters(operator_client, log, monkeypatch, team):
    from management.admin import audit_log

    monkeypatch.setattr(audit_log, "PAGE_SIZE", 1)
    first = operator_client.get(f"/admin/audit-log?seller={team.northwind}&action=")
    older = html.unescape(re.search(r'href="([^"]*before=[^"]*)"', first.text).group(1))
    assert f"seller={team.northwind}" in older
    assert _actions(operator_client.get(older)) == ["member.invited"]


@pytest.mark.parametrize("query, message", [
    ("actor_type=wizard", "Choose one of the actors."),
    ("actor=nobody%40example.com", "No person has this email."),
    ("actor_type=system&actor=owner%40northwind.test", "Only people act with an email"),
    ("seller=sel_nothing", "There is no seller with this id."),
    ("since=yesterday", "Write the day as YYYY-MM-DD"),
    ("until=2026-02-30", "Write the day as YYYY-MM-DD"),
    ("since=2026-03-12&until=2026-03-11", "The last day is before the first."),
    ("action=BAN%20ADDED", "Actions are written in lower case"),
    ("action=" + "a" * 61, "Field cannot be longer than 60 characters."),
    ("before=abc", "This page link is not valid"),
    ("before=99999999999999999999", "This page link is not valid"),
])
def test_bad_filters_are_said_not_a_500(operator_client, log, query, message):
    page = operator_client.get(f"/admin/audit-log?{query}")
    assert page.status_code == 400
    assert message in _text(page)
    assert "Check the filters" in _text(page)
    assert _actions(page) == []


def test_every_ban_action_of_the_pages_is_in_the_log(operator_client, in_app):
    form_post(operator_client, "/admin/bans/new",
              {"kind": "domain", "value": "fraud.example", "reason": "card testing"})
    form_post(operator_client, "/admin/blacklist/new", {"pattern": r"bot\d+@.*", "reason": "x"})
    page = operator_client.get("/admin/audit-log?action=b")
    assert _actions(page) == ["blacklist.added", "ban.added"]
    assert "card testing" in page.text and "fraud.example" in page.text
    assert in_app(lambda: db.session.scalar(db.select(db.func.count()).select_from(
        AuditEntry))) == 2
