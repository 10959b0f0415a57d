"""The console's Customers: this seller's buyers by email, their orders and credit here,
and granting or taking back credit with a reason — after a confirmation, once per form
however often it is sent, never below zero, never another seller's buyer."""

from __future__ import annotations

import html
import re

import pytest

from buyflow.buyers.identity import buyer_for_email
from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import AuditEntry, Buyer, LedgerTransaction, Order, Seller
from buyflow.models._base import utcnow
from tests.conftest import at_once
from tests.management.conftest import csrf_token, form_post


def base(team) -> str:
    return f"/console/{team.northwind}/customers"


def seller_of(public_id) -> Seller:
    return db.session.scalar(db.select(Seller).filter_by(public_id=public_id))


def order_of(in_app, seller_id, email, amount=1450, status="paid", key=None):
    def add():
        seller = seller_of(seller_id)
        order = Order(seller=seller, buyer=buyer_for_email(email), buyer_email=email,
                      checkout_key=key or f"{seller_id}-{email}-{amount}-{status}",
                      status=status, amount=amount, currency="EUR",
                      paid_at=utcnow() if status == "paid" else None)
        db.session.add(order)
        db.session.commit()
        return order.public_id
    return in_app(add)


def grant_of(in_app, seller_id, email, amount, unit="EUR"):
    def add():
        book.grant(seller_of(seller_id), buyer_for_email(email), unit, amount,
                   idempotency_key=f"seed-{email}-{amount}", reason="seed")
        db.session.commit()
    in_app(add)


def balance(in_app, team, email, unit="EUR") -> int:
    return in_app(lambda: book.balance(seller_of(team.northwind), db.session.scalar(
        db.select(Buyer).filter_by(email=email)), unit))


def transactions(in_app) -> list[LedgerTransaction]:
    return in_app(lambda: db.session.scalars(db.select(LedgerTransaction).where(
        LedgerTransaction.reason != "seed").order_by(LedgerTransaction.id)).all())


def audited(in_app, action: str) -> list[AuditEntry]:
    return in_app(lambda: db.session.scalars(
        db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)).all())


def form_key(page: str, kind: str) -> str:
    return re.search(rf'name="{kind}-key"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def support(team, as_person):
    as_person(team.emails["support"])
    return team


@pytest.fixture
def ann(in_app, team):
    order_of(in_app, team.northwind, "ann@example.com")
    return "ann@example.com"


def move(client, team, email, kind, amount, unit="EUR", reason="Goodwill", key=None,
         confirmed="yes"):
    if key is None:
        key = form_key(client.get(f"{base(team)}/{email}").text, kind)
    return form_post(client, f"{base(team)}/{email}/credit/{kind}", {
        f"{kind}-unit": unit, f"{kind}-amount": amount, f"{kind}-reason": reason,
        f"{kind}-key": key, f"{kind}-confirmed": confirmed})


def test_the_list_has_who_ordered_here_or_holds_credit_here_and_nobody_else(
        client, support, in_app):
    order_of(in_app, support.northwind, "ann@example.com")
    order_of(in_app, support.northwind, "ann@example.com", amount=900)
    grant_of(in_app, support.northwind, "bob@example.com", 500)
    order_of(in_app, support.other, "carol@example.com")  # another seller's buyer
    grant_of(in_app, support.other, "dave@example.com", 500)
    page = client.get(base(support))
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "ann@example.com" in text and "bob@example.com" in text
    assert "carol@example.com" not in text and "dave@example.com" not in text
    assert "€5.00" in text  # bob's credit
    assert re.search(r"ann@example\.com.*?<td class=\"amount\">2</td>", page.text, re.S)


def test_the_list_is_searched_by_email_and_paged_by_keyset(client, support, in_app,
                                                          monkeypatch):
    from management.console import customers

    monkeypatch.setattr(customers, "PAGE_SIZE", 2)
    for name in ("amy", "ben", "cat", "dan", "eve"):
        order_of(in_app, support.northwind, f"{name}@example.com")
    first = client.get(base(support)).text
    assert "amy@" in first and "ben@" in first and "cat@" not in first
    next_url = html.unescape(re.search(r'href="([^"]+after=[^"]+)"', first).group(1))
    second = client.get(next_url).text
    assert "cat@" in second and "dan@" in second and "amy@" not in second
    found = client.get(base(support), query_string={"q": "EVE"}).text
    assert "eve@example.com" in found and "amy@" not in found
    none = client.get(base(support), query_string={"q": "%"}).text
    assert "No customer" in none


def test_a_customers_page_shows_their_orders_and_credit_here(client, support, in_app, ann):
    order_of(in_app, support.other, ann, amount=9999)  # at another seller: not shown
    grant_of(in_app, support.northwind, ann, 250)
    page = client.get(f"{base(support)}/{ann}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "€14.50" in text and "€99.99" not in text
    assert "€2.50" in text and "Grant credit" in text and "Take credit back" in text


def test_an_email_that_is_not_this_sellers_customer_is_not_found(client, support, in_app):
    order_of(in_app, support.other, "carol@example.com")
    grant_of(in_app, support.other, "dave@example.com", 100)
    for email in ("carol@example.com", "dave@example.com", "nobody@example.com", "not-an-email"):
        assert client.get(f"{base(support)}/{email}").status_code == 404
        assert move(client, support, email, "grant", "5", key="k" * 22).status_code == 404
    assert transactions(in_app) == []


def test_a_grant_is_confirmed_then_made_once_and_audited(client, support, in_app, ann):
    key = form_key(client.get(f"{base(support)}/{ann}").text, "grant")
    confirm = move(client, support, ann, "grant", "12,50", key=key, confirmed="",
                   reason="Late delivery")
    assert confirm.status_code == 200
    assert "Grant €12.50" in html.unescape(confirm.text) and transactions(in_app) == []
    assert f'value="{key}"' in confirm.text
    done = move(client, support, ann, "grant", "12,50", key=key, reason="Late delivery")
    assert done.status_code == 303
    assert balance(in_app, support, ann) == 1250
    again = move(client, support, ann, "grant", "12,50", key=key, reason="Late delivery")
    assert again.status_code == 303  # the same form sent again: nothing moves twice
    assert "already done" in client.get(again.location).text
    assert balance(in_app, support, ann) == 1250
    [transaction] = transactions(in_app)
    assert transaction.reason == "Late delivery" and transaction.actor.startswith("member:")
    [entry] = audited(in_app, "credit.granted")
    assert entry.subject == transaction.public_id and entry.reason == "Late delivery"
    assert entry.before == {"unit": "EUR", "balance": 0}
    assert entry.after == {"unit": "EUR", "balance": 1250}


def test_a_form_sent_twice_at_the_same_moment_moves_once(app, client, support, in_app, ann):
    key = form_key(client.get(f"{base(support)}/{ann}").text, "grant")
    token = csrf_token(client.get("/account/sign-in").text)
    cookie = client.get_cookie("session")

    def send(_n):
        other = app.test_client()
        other.set_cookie("session", cookie.value)
        return other.post(f"{base(support)}/{ann}/credit/grant", data={
            "grant-unit": "EUR", "grant-amount": "10", "grant-reason": "Twice",
            "grant-key": key, "grant-confirmed": "yes", "csrf_token": token}).status_code

    assert set(at_once(send, range(4), workers=4)) == {303}
    assert balance(in_app, support, ann) == 1000
    assert len(transactions(in_app)) == 1
    assert len(audited(in_app, "credit.granted")) == 1


@pytest.mark.parametrize("kind", ["grant", "debit"])
def test_a_form_whose_check_came_before_the_first_ones_commit_moves_and_audits_once(
        client, support, in_app, ann, monkeypatch, kind):
    from management.console import customers

    if kind == "debit":
        assert move(client, support, ann, "grant", "10").status_code == 303
    key = form_key(client.get(f"{base(support)}/{ann}").text, kind)
    assert move(client, support, ann, kind, "4", key=key).status_code == 303
    # The second sending's look for an earlier movement ran before the first committed.
    monkeypatch.setattr(customers, "_earlier", lambda seller, key: None)
    again = move(client, support, ann, kind, "4", key=key)

    assert again.status_code == 303
    assert "already done" in client.get(again.location).text
    assert balance(in_app, support, ann) == (400 if kind == "grant" else 600)
    action = "credit.granted" if kind == "grant" else "credit.debited"
    assert len(audited(in_app, action)) == 1


def test_a_key_used_for_another_movement_moves_nothing(client, support, in_app, ann):
    key = form_key(client.get(f"{base(support)}/{ann}").text, "grant")
    assert move(client, support, ann, "grant", "10", key=key).status_code == 303
    reused = move(client, support, ann, "grant", "99", key=key)
    assert reused.status_code == 409 and "already used" in reused.text
    assert balance(in_app, support, ann) == 1000


def test_a_debit_never_takes_more_than_the_customer_has(client, support, in_app, ann):
    grant_of(in_app, support.northwind, ann, 500)
    refused = move(client, support, ann, "debit", "5.01")
    assert refused.status_code == 409
    assert "The customer has €5.00" in html.unescape(refused.text)
    assert balance(in_app, support, ann) == 500
    assert move(client, support, ann, "debit", "5").status_code == 303
    assert balance(in_app, support, ann) == 0
    [entry] = audited(in_app, "credit.debited")
    assert entry.before["balance"] == 500 and entry.after["balance"] == 0


def test_points_are_whole_numbers(client, support, in_app, ann):
    assert move(client, support, ann, "grant", "100", unit="points:stars").status_code == 303
    assert balance(in_app, support, ann, "points:stars") == 100
    refused = move(client, support, ann, "grant", "1.5", unit="points:stars")
    assert refused.status_code == 400 and "at most 0 decimals" in refused.text


@pytest.mark.parametrize("fields, message", [
    ({"reason": ""}, "This field is required."),
    ({"amount": "-1"}, "Enter a positive amount"),
    ({"amount": "1.001"}, "at most 2 decimals"),
    ({"unit": "stars"}, "A unit is a currency code"),
    ({"key": "short"}, "not sent whole"),
])
def test_a_bad_movement_is_refused_and_moves_nothing(client, support, in_app, ann, fields,
                                                     message):
    response = move(client, support, ann, "grant", **{"amount": "5", **fields})
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert transactions(in_app) == []


def test_a_viewer_sees_customers_but_moves_no_credit(client, team, as_person, in_app, ann):
    as_person(team.emails["viewer"])
    page = client.get(f"{base(team)}/{ann}")
    assert page.status_code == 200 and "Grant credit" not in page.text
    assert move(client, team, ann, "grant", "5", key="k" * 22).status_code == 403
    assert transactions(in_app) == []


def test_a_deleted_accounts_orders_stay_and_its_credit_moves_no_more(client, support,
                                                                     in_app):
    email = "deleted-0123456789abcdef@deleted.invalid"

    order_of(in_app, support.northwind, "gone@example.com")

    def deleted():
        buyer = db.session.scalar(db.select(Buyer).filter_by(email="gone@example.com"))
        buyer.email, buyer.deleted_at = email, utcnow()
        db.session.execute(db.update(Order).values(buyer_email=email))
        db.session.commit()
    in_app(deleted)
    page = client.get(f"{base(support)}/{email}")
    assert page.status_code == 200 and "€14.50" in html.unescape(page.text)
    assert "Grant credit" not in page.text
    refused = move(client, support, email, "grant", "5", key="k" * 22)
    assert refused.status_code == 409 and "deleted their Buyflow account" in refused.text
    assert transactions(in_app) == []


def test_an_email_is_found_however_it_is_written_in_the_address(client, support, in_app):
    order_of(in_app, support.northwind, "ann+shop@example.com")
    listed = client.get(base(support)).text
    link = re.search(r'href="([^"]*/customers/ann[^"]*)"', listed).group(1)
    assert client.get(html.unescape(link)).status_code == 200
    assert client.get(f"{base(support)}/ANN+shop@Example.com").status_code == 200
