"""The operator admin's Sellers pages: the list (status filter, search by name, pages),
a seller's facts, and approving, suspending (a reason required) and reinstating it, each
with its audit entry naming the operator; a suspended seller's flow and API refuse
(tests/flow/test_suspended_seller.py, tests/api/test_suspended_seller.py)."""

from __future__ import annotations

import re

import pytest

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, Seller
from tests.conftest import SELLER_ORIGIN, make_seller
from tests.management.conftest import form_post


@pytest.fixture
def operator_client(client, team, as_person):
    as_person(team.operator)
    return client


def seller_of(in_app, public_id: str) -> tuple[str, str | None]:
    return in_app(lambda: (lambda s: (s.status, s.status_reason))(
        db.session.scalar(db.select(Seller).filter_by(public_id=public_id))))


def audit(in_app) -> list[tuple]:
    return in_app(lambda: [(e.action, e.actor_type, e.actor_id, e.before, e.after, e.reason)
                           for e in db.session.scalars(db.select(AuditEntry)
                                                       .where(AuditEntry.seller_id.is_not(None))
                                                       .order_by(AuditEntry.id))])


def operator_id(in_app, team) -> str:
    return in_app(lambda: str(db.session.scalar(db.select(Buyer.id)
                                                .filter_by(email=team.operator))))


def names_listed(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/sellers/sel_[^"]+"><bdi>([^<]+)</bdi>', html)


def test_the_list_filters_by_status_and_searches_by_name(operator_client, team, in_app):
    def more():
        pending = make_seller(name="Pending Tea 100%", api_key="sk_p", signing_secret="s_p")
        pending.status = "pending"
        db.session.commit()
    in_app(more)
    page = operator_client.get("/admin/sellers")
    assert page.status_code == 200
    assert names_listed(page.text) == ["Pending Tea 100%", "Other Shop", "Northwind Coffee"]
    assert "Waiting for approval" in page.text
    assert names_listed(operator_client.get("/admin/sellers?status=pending").text) == [
        "Pending Tea 100%"]
    assert names_listed(operator_client.get("/admin/sellers?q=north").text) == [
        "Northwind Coffee"]
    # What is typed is text, never a pattern.
    assert names_listed(operator_client.get("/admin/sellers?q=100%25").text) == [
        "Pending Tea 100%"]
    assert names_listed(operator_client.get("/admin/sellers?q=%25").text) == [
        "Pending Tea 100%"]
    assert "No seller matches." in operator_client.get("/admin/sellers?q=zzz").text


def test_the_list_pages_by_keyset(operator_client, team, in_app, monkeypatch):
    from management.admin import sellers

    monkeypatch.setattr(sellers, "PAGE_SIZE", 2)
    in_app(lambda: make_seller(name="Third", api_key="sk_3", signing_secret="s3"))
    first = operator_client.get("/admin/sellers")
    assert names_listed(first.text) == ["Third", "Other Shop"]
    next_url = re.search(r'href="(/admin/sellers\?after=[^"]+)"', first.text).group(1)
    second = operator_client.get(next_url.replace("&amp;", "&"))
    assert names_listed(second.text) == ["Northwind Coffee"]
    assert "?after=" not in second.text
    assert operator_client.get("/admin/sellers?after=sel_nope").status_code == 404


def test_a_sellers_page_shows_its_facts_and_team(operator_client, team):
    page = operator_client.get(f"/admin/sellers/{team.northwind}")
    assert page.status_code == 200
    assert "<bdi>Northwind Coffee</bdi>" in page.text and SELLER_ORIGIN in page.text
    for email in team.emails.values():
        assert f"<bdi>{email}</bdi>" in page.text
    assert "Owner" in page.text and "Viewer" in page.text
    assert operator_client.get("/admin/sellers/sel_nope").status_code == 404


def test_approve_then_suspend_with_a_reason_then_reinstate(operator_client, team, in_app):
    def pend():
        db.session.scalar(db.select(Seller).filter_by(public_id=team.northwind)).status = \
            "pending"
        db.session.commit()
    in_app(pend)
    url = f"/admin/sellers/{team.northwind}"
    assert "Approve this seller" in operator_client.get(url).text

    approved = form_post(operator_client, f"{url}/approve")
    assert approved.status_code == 303 and approved.location == url
    assert "The seller is approved" in operator_client.get(url).text
    assert seller_of(in_app, team.northwind) == ("active", None)

    suspended = form_post(operator_client, f"{url}/suspend",
                          {"reason": "Chargebacks under review"})
    assert suspended.status_code == 303
    page = operator_client.get(url).text
    assert "Reinstate this seller" in page and "<bdi>Chargebacks under review</bdi>" in page
    assert seller_of(in_app, team.northwind) == ("suspended", "Chargebacks under review")

    assert form_post(operator_client, f"{url}/reinstate").status_code == 303
    assert seller_of(in_app, team.northwind) == ("active", None)

    me = operator_id(in_app, team)
    assert audit(in_app) == [
        ("seller.approved", "operator", me, {"status": "pending", "status_reason": None},
         {"status": "active", "status_reason": None}, None),
        ("seller.suspended", "operator", me, {"status": "active", "status_reason": None},
         {"status": "suspended", "status_reason": "Chargebacks under review"},
         "Chargebacks under review"),
        ("seller.reinstated", "operator", me,
         {"status": "suspended", "status_reason": "Chargebacks under review"},
         {"status": "active", "status_reason": None}, None),
    ]
    # The seller's page lists them.
    assert operator_client.get(url).text.count("seller.") >= 3


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_a_suspension_without_a_reason_is_refused(operator_client, team, in_app, reason):
    response = form_post(operator_client, f"/admin/sellers/{team.northwind}/suspend",
                         {"reason": reason})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text and 'id="reason-error"' in response.text
    assert seller_of(in_app, team.northwind) == ("active", None)
    assert audit(in_app) == []


@pytest.mark.parametrize("action, message", [
    ("approve", "Only a seller waiting for approval can be approved."),
    ("reinstate", "Only a suspended seller can be reinstated."),
])
def test_a_change_the_status_does_not_allow_is_refused(operator_client, team, in_app,
                                                       action, message):
    response = form_post(operator_client, f"/admin/sellers/{team.northwind}/{action}")
    assert response.status_code == 422 and message in response.text
    assert seller_of(in_app, team.northwind) == ("active", None) and audit(in_app) == []


def test_suspending_twice_is_refused_the_second_time(operator_client, team, in_app):
    url = f"/admin/sellers/{team.northwind}/suspend"
    assert form_post(operator_client, url, {"reason": "Fraud"}).status_code == 303
    again = form_post(operator_client, url, {"reason": "Fraud"})
    assert again.status_code == 422 and "suspended already" in again.text
    assert len(audit(in_app)) == 1


def test_the_console_tells_a_suspended_sellers_team(operator_client, client, team, in_app,
                                                    as_person):
    form_post(operator_client, f"/admin/sellers/{team.northwind}/suspend",
              {"reason": "Chargebacks under review"})
    as_person(team.emails["owner"])
    page = client.get(f"/console/{team.northwind}/")
    if page.status_code == 200:  # the console's home is another helper's page
        assert "This seller is suspended" in page.text
        assert "<bdi>Chargebacks under review</bdi>" in page.text


def test_without_a_csrf_token_nothing_changes(operator_client, team, in_app):
    response = operator_client.post(f"/admin/sellers/{team.northwind}/suspend",
                                    data={"reason": "Fraud"})
    assert response.status_code == 400
    assert seller_of(in_app, team.northwind) == ("active", None)
