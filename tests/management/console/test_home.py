"""The console's home: net sales per day as a chart with its table, and the counts."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from buyflow.extensions import db
from buyflow.models import Buyer, Order, Payment, RefundRequest, Seller
from tests.conftest import make_refund


def seller_row(public_id: str) -> Seller:
    return db.session.scalar(db.select(Seller).filter_by(public_id=public_id))


@pytest.fixture
def sales(team, in_app):
    """At Northwind: today a 24.00 EUR sale refunded 4.00, three days ago 10.00 EUR and
    a 1,500 JPY sale, an open refund request; 99.00 EUR sold at the other seller."""
    now = datetime.now(UTC)

    def make():
        northwind, other = seller_row(team.northwind), seller_row(team.other)
        made = []
        for n, (seller, amount, currency, at) in enumerate([
                (northwind, 2400, "EUR", now), (northwind, 1000, "EUR", now - timedelta(days=3)),
                (northwind, 1500, "JPY", now - timedelta(days=3)),
                (northwind, 7000, "EUR", now - timedelta(days=60)),
                (other, 9900, "EUR", now)]):
            order = Order(seller=seller, buyer_email=f"h{n}@example.com", status="paid",
                          checkout_key=f"home-{n}", amount=amount, currency=currency,
                          paid_at=at, created_at=at)
            made.append(Payment(order=order, provider="stripe", method="card",
                                amount=amount, currency=currency, status="succeeded"))
        db.session.add_all(made)
        db.session.add(RefundRequest(order=made[1].order, buyer=Buyer(email="h@example.com"),
                                     reason="Broken"))
        db.session.commit()
        make_refund(made[0], 400, status="succeeded")

    in_app(make)


def stat(html: str, label: str) -> str:
    return re.search(r'<span class="value">([^<]*)</span>\s*<span class="label">'
                     + re.escape(label), html).group(1)


def test_the_home_page_charts_net_sales_per_currency_with_the_figures(client, team, sales,
                                                                       as_person):
    as_person(team.emails["viewer"])
    page = client.get(f"/console/{team.northwind}/")
    assert page.status_code == 200
    html = page.text
    assert "The last 30 days" in html and "Days are in UTC" in html
    assert (stat(html, "Orders paid"), stat(html, "Refunds"),
            stat(html, "Open refund requests")) == ("3", "1", "1")
    charts = re.findall(r'<svg class="chart" role="img"[^>]*aria-labelledby="([^"]+)"', html)
    assert charts == ["chart-eur-title chart-eur-desc", "chart-jpy-title chart-jpy-desc"]
    assert '<title id="chart-eur-title">Net sales per day in EUR</title>' in html
    assert "€30.00 net, €34.00 sold, €4.00 refunded." in html  # the description
    # The same figures as a table: a row a day, today's last, its header the day.
    eur = html[html.index('id="chart-eur"'):html.index('id="chart-jpy"')]
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th>((?:<td[^>]*>[^<]*</td>)+)</tr>", eur)
    assert len(rows) == 30
    assert re.findall(r">([^<]+)</td>", rows[-1][1]) == ["€24.00", "€4.00", "€20.00"]
    assert re.findall(r">([^<]+)</td>", rows[-4][1]) == ["€10.00", "€0.00", "€10.00"]
    assert "€99.00" not in html and "€70.00" not in html  # another seller's; too old
    assert "¥1,500" in html
    # Bars: one per day, drawn from the tokens' colours, with the value as a tooltip.
    assert eur.count('<rect class="bar"') == 30
    assert "console-home" in html  # the page's stylesheet


def test_ninety_days_and_a_bad_range_falls_back_to_thirty(client, team, sales, as_person):
    as_person(team.emails["owner"])
    ninety = client.get(f"/console/{team.northwind}/?days=90").text
    assert "The last 90 days" in ninety and stat(ninety, "Orders paid") == "4"
    assert "€70.00" in ninety
    assert re.search(r'href="[^"]*days=90"[^>]*aria-current="page"', ninety)
    for bad in ("365", "thirty", "", "-30"):
        page = client.get(f"/console/{team.northwind}/", query_string={"days": bad})
        assert page.status_code == 200 and "The last 30 days" in page.text
        assert stat(page.text, "Orders paid") == "3"


def test_right_to_left_the_time_axis_runs_from_the_right(client, team, sales, as_person):
    as_person(team.emails["owner"])
    ltr = client.get(f"/console/{team.northwind}/").text
    rtl = client.get(f"/console/{team.northwind}/", headers={"Accept-Language": "ar"}).text
    assert 'dir="rtl"' in rtl

    def first_bar_x(html):  # the oldest day's bar
        return float(re.search(r'<rect class="bar[^"]*" fill="currentColor" x="([\d.]+)%"',
                               html).group(1))

    assert first_bar_x(ltr) < 5 and first_bar_x(rtl) > 95


def test_a_day_refunding_more_than_it_sold_is_drawn_below_the_axis(client, team, in_app,
                                                                    as_person):
    def make():
        order = Order(seller=seller_row(team.northwind), buyer_email="o@example.com",
                      status="refunded", checkout_key="old", amount=5000, currency="EUR",
                      paid_at=datetime.now(UTC) - timedelta(days=100))
        payment = Payment(order=order, provider="stripe", method="card", amount=5000,
                          currency="EUR", status="succeeded")
        db.session.add_all([order, payment])
        db.session.commit()
        make_refund(payment, 5000, status="succeeded")

    in_app(make)
    as_person(team.emails["owner"])
    html = client.get(f"/console/{team.northwind}/").text
    assert html.count('<rect class="bar negative"') == 1
    assert "-€50.00" in html or "−€50.00" in html


def test_nothing_sold_says_so(client, team, as_person):
    as_person(team.emails["support"])
    html = client.get(f"/console/{team.northwind}/").text
    assert "Nothing sold in these days yet." in html and "<svg" not in html
