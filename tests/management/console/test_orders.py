"""The console's orders: the search, keyset pages, the CSV export."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from buyflow.extensions import db
from buyflow.models import Order, OrderItem, Payment, Seller
from buyflow.sellers.order_search import reference_key
from tests.conftest import make_refund

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def seller_row(public_id: str) -> Seller:
    return db.session.scalar(db.select(Seller).filter_by(public_id=public_id))


@pytest.fixture
def shop_orders(team, in_app):
    """30 Northwind orders, one a day back from DAY (the newest), every third pending,
    the newest with a reference, a partial refund and two items; one order of the other
    seller. Their public ids, newest first."""

    def make():
        northwind = seller_row(team.northwind)
        made = []
        for n in range(30):
            reference = "INV-2026-030" if n == 29 else None
            order = Order(seller=northwind, buyer_email=f"buyer{n}@example.com",
                          status="pending" if n % 3 == 0 else "paid",
                          checkout_key=reference_key(northwind, reference) if reference
                          else f"list-{n}", seller_reference=reference,
                          amount=1000 + n, currency="EUR",
                          created_at=DAY - timedelta(days=29 - n))
            order.items.append(OrderItem(name="Beans", quantity=2, unit_amount=500,
                                         amount=1000))
            made.append(order)
        db.session.add_all(made)
        other = seller_row(team.other)
        db.session.add(Order(seller=other, buyer_email="buyer29@example.com", status="paid",
                             checkout_key="theirs", amount=9999, currency="EUR",
                             created_at=DAY))
        payment = Payment(order=made[-1], provider="stripe", method="card", amount=1029,
                          currency="EUR", status="succeeded")
        db.session.add(payment)
        db.session.commit()
        make_refund(payment, 329, status="succeeded")
        return [o.public_id for o in reversed(made)]

    return in_app(make)


def listed(html: str) -> list[str]:
    return re.findall(r'<td class="order"><a class="id" href="[^"]*/(ord_[^"/]+)"', html)


@pytest.fixture
def owner(team, as_person):
    as_person(team.emails["owner"])
    return f"/console/{team.northwind}/orders"


def test_the_list_pages_newest_first_with_links_both_ways(client, owner, shop_orders):
    first = client.get(owner)
    assert first.status_code == 200
    assert listed(first.text) == shop_orders[:25]
    assert "Newer orders" not in first.text
    assert "€10.29" in first.text and "<bdi>INV-2026-030</bdi>" in first.text
    assert "<bdi>Beans</bdi> × 2" in first.text
    older = re.search(r'rel="next" href="([^"]+)"', first.text).group(1)
    second = client.get(older.replace("&amp;", "&"))
    assert listed(second.text) == shop_orders[25:] and "Older orders" not in second.text
    newer = re.search(r'rel="prev" href="([^"]+)"', second.text).group(1)
    back = client.get(newer.replace("&amp;", "&"))
    assert listed(back.text) == shop_orders[:25]


def test_each_order_links_to_its_page(client, owner, shop_orders, app, team):
    html = client.get(owner).text
    with app.test_request_context():
        from flask import url_for
        link = url_for("console.order_detail", seller_id=team.northwind,
                       order_id=shop_orders[0])
    assert f'href="{link}"' in html


@pytest.mark.parametrize("search, expected", [
    ({"email": " Buyer29@Example.com "}, [0]),  # only this seller's order of the email
    ({"order": "{0}"}, [0]),
    ({"reference": "INV-2026-030"}, [0]),
    ({"reference": "INV-2026"}, []),  # the whole reference
    ({"status": "pending"}, [n for n in range(30) if (29 - n) % 3 == 0]),
    ({"created_from": "2026-03-08", "created_to": "2026-03-09"}, [1, 2]),  # both included
    ({"created_from": "2026-03-08", "status": "paid"}, [0, 1]),
])
def test_the_search(client, owner, shop_orders, search, expected):
    query = {k: v.format(shop_orders[0]) for k, v in search.items()}
    page = client.get(owner, query_string=query)
    assert page.status_code == 200
    assert listed(page.text) == [shop_orders[n] for n in expected][:25]
    if not expected:
        assert "No order matches this search." in page.text
    # Paging and the export keep the search.
    assert "Clear the search" in page.text


def test_a_search_keeps_its_filters_across_pages(client, owner, shop_orders):
    first = client.get(owner, query_string={"created_from": "2026-02-01"})
    older = re.search(r'rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    assert "created_from=2026-02-01" in older
    assert listed(client.get(older).text) == shop_orders[25:]


@pytest.mark.parametrize("search, message", [
    ({"created_from": "yesterday"}, "Enter a date as YYYY-MM-DD, for example 2026-03-31."),
    ({"created_to": "2026-02-30"}, "Enter a date as YYYY-MM-DD, for example 2026-03-31."),
    ({"status": "lost"}, "Choose a status from the list."),
    ({"created_from": "2026-03-09", "created_to": "2026-03-08"},
     "The last day cannot be before the first one."),
    ({"reference": "x" * 101}, "Field cannot be longer than 100 characters."),
])
def test_bad_searches_are_explained_not_crashed(client, owner, shop_orders, search, message):
    page = client.get(owner, query_string=search)
    assert page.status_code == 400
    assert message in page.text and 'aria-invalid="true"' in page.text
    assert re.search(r'aria-describedby="([^"]+)-error"', page.text)
    assert listed(page.text) == []
    assert client.get(owner.replace("/orders", "/orders.csv"),
                      query_string=search).status_code == 400


def test_a_cursor_that_is_no_order_of_the_seller_is_explained(client, owner, shop_orders,
                                                              in_app):
    theirs = in_app(lambda: db.session.scalar(
        db.select(Order.public_id).filter_by(checkout_key="theirs")))
    for cursor in ("ord_nope", theirs):
        for name in ("after", "before"):
            page = client.get(owner, query_string={name: cursor})
            assert page.status_code == 400
            assert "This page of orders is no longer there." in page.text


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_has_every_matching_order_in_major_units(client, owner, shop_orders):
    response = client.get(owner.replace("/orders", "/orders.csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="orders-')
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert rows[0] == ["Order", "Created (UTC)", "Paid (UTC)", "Status", "Email", "Reference",
                       "Currency", "Amount", "Refunded"]
    assert [row[0] for row in rows[1:]] == shop_orders  # all 30, not a page
    assert rows[1] == [shop_orders[0], "2026-03-10T12:00:00+00:00", "", "paid",
                       "buyer29@example.com", "INV-2026-030", "EUR", "10.29", "3.29"]
    assert rows[2][7:] == ["10.28", "0.00"]
    pending = read_csv(client.get(owner.replace("/orders", "/orders.csv"),
                                  query_string={"status": "pending"}))
    assert len(pending) == 11 and {row[3] for row in pending[1:]} == {"pending"}


def test_the_csv_defuses_formulas(client, owner, team, in_app):
    def make():
        northwind = seller_row(team.northwind)
        for n, reference in enumerate(["=HYPERLINK(\"http://evil\")", "+1", "-1", "@SUM(A1)",
                                       "\tx", "plain"]):
            db.session.add(Order(seller=northwind, buyer_email=f"=cmd{n}@example.com",
                                 status="paid", checkout_key=reference_key(northwind, reference),
                                 seller_reference=reference, amount=100, currency="JPY"))
        db.session.commit()

    in_app(make)
    rows = read_csv(client.get(owner.replace("/orders", "/orders.csv")))
    assert [row[5] for row in rows[1:]] == ["plain", "'\tx", "'@SUM(A1)", "'-1", "'+1",
                                            "'=HYPERLINK(\"http://evil\")"]
    assert {row[4][:2] for row in rows[1:]} == {"'="}
    assert {row[7] for row in rows[1:]} == {"100"}  # no minor unit in yen


def test_a_large_export_streams(client, owner, team, in_app):
    def make():
        northwind = seller_row(team.northwind)
        db.session.execute(Order.__table__.insert(), [
            {"public_id": f"ord_bulk{n:06d}", "seller_id": northwind.id,
             "buyer_email": "bulk@example.com", "checkout_key": f"bulk-{n}", "status": "paid",
             "amount": 100, "currency": "EUR", "locale": "en",
             "created_at": DAY - timedelta(minutes=n)} for n in range(1200)])
        db.session.commit()

    in_app(make)
    response = client.get(owner.replace("/orders", "/orders.csv"))
    assert response.is_streamed
    assert len(read_csv(response)) == 1201
