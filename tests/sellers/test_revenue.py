"""What a seller sold per UTC day and currency (sellers/revenue.py)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from buyflow.extensions import db
from buyflow.models import Buyer, Order, Payment, RefundRequest
from buyflow.sellers.revenue import revenue
from tests.conftest import make_refund

NOW = datetime(2026, 3, 15, 9, 30, tzinfo=UTC)  # the 30 days: Feb 14 to Mar 15
FIRST = datetime(2026, 2, 14, tzinfo=UTC)

_count = 0


def paid(seller, amount: int, at: datetime, currency="EUR", status="paid") -> Payment:
    """An order of ``amount`` paid ``at``, with its card payment."""
    global _count
    _count += 1
    order = Order(seller=seller, buyer_email=f"r{_count}@example.com", status=status,
                  checkout_key=f"rev-{_count}", amount=amount, currency=currency,
                  created_at=at - timedelta(minutes=5), paid_at=at)
    payment = Payment(order=order, provider="stripe", method="card", amount=amount,
                      currency=currency, status="succeeded")
    db.session.add_all([order, payment])
    db.session.commit()
    return payment


def day_of(result, currency: str, day: date):
    return next(d for d in result.currencies[currency] if d.day == day)


def test_sales_less_refunds_per_utc_day_and_currency(seller, other_seller):
    first = paid(seller, 1000, datetime(2026, 3, 14, 23, 59, tzinfo=UTC))
    paid(seller, 500, datetime(2026, 3, 15, 0, 0, tzinfo=UTC))
    paid(seller, 700, datetime(2026, 3, 15, 8, 0, tzinfo=UTC), status="partially_refunded")
    paid(seller, 12000, datetime(2026, 3, 1, 10, 0, tzinfo=UTC), currency="JPY")
    paid(seller, 300, FIRST)  # the first moment of the first day: in
    paid(seller, 999, FIRST - timedelta(seconds=1))  # the day before: out
    paid(other_seller, 5000, datetime(2026, 3, 15, 8, 0, tzinfo=UTC))  # not this seller's
    db.session.add(Order(seller=seller, buyer_email="p@example.com", status="pending",
                         checkout_key="never-paid", amount=800, currency="EUR",
                         created_at=NOW))  # never paid: no sale
    db.session.commit()
    make_refund(first, 200, status="succeeded", updated_at=datetime(2026, 3, 15, 7, 0, tzinfo=UTC))
    make_refund(first, 100, status="failed", updated_at=datetime(2026, 3, 15, 7, 0, tzinfo=UTC))
    make_refund(first, 50, status="pending", updated_at=datetime(2026, 3, 15, 7, 0, tzinfo=UTC))
    make_refund(first, 400, status="succeeded", kind="overpayment",
                updated_at=datetime(2026, 3, 15, 7, 0, tzinfo=UTC))  # never a sale

    result = revenue(seller, 30, now=NOW)

    assert (result.first_day, result.last_day) == (date(2026, 2, 14), date(2026, 3, 15))
    assert list(result.currencies) == ["EUR", "JPY"]
    euros = result.currencies["EUR"]
    assert len(euros) == 30 and euros[0].day == date(2026, 2, 14)
    assert euros[0].sales == 300
    assert (day_of(result, "EUR", date(2026, 3, 14)).sales,
            day_of(result, "EUR", date(2026, 3, 14)).refunded) == (1000, 0)
    today = day_of(result, "EUR", date(2026, 3, 15))
    assert (today.sales, today.refunded, today.net) == (1200, 200, 1000)
    assert day_of(result, "JPY", date(2026, 3, 1)).sales == 12000
    totals = result.totals("EUR")
    assert (totals.sales, totals.refunded, totals.net) == (2500, 200, 2300)
    assert (result.orders_paid, result.refunds) == (5, 1)


def test_a_day_can_refund_more_than_it_sold(seller):
    old = paid(seller, 5000, NOW - timedelta(days=60))
    make_refund(old, 5000, status="succeeded", updated_at=NOW - timedelta(hours=1))
    result = revenue(seller, 30, now=NOW)
    today = result.currencies["EUR"][-1]
    assert (today.sales, today.refunded, today.net) == (0, 5000, -5000)
    assert result.orders_paid == 0 and result.refunds == 1
    assert len(revenue(seller, 90, now=NOW).currencies["EUR"]) == 90
    assert revenue(seller, 90, now=NOW).totals("EUR").net == 0  # sold and refunded in it


def test_days_are_utc_days_whatever_the_database_session_zone(seller):
    paid(seller, 100, datetime(2026, 3, 14, 23, 30, tzinfo=UTC))
    paid(seller, 200, datetime(2026, 3, 15, 0, 30, tzinfo=UTC))
    if db.engine.dialect.name == "postgresql":  # 14 hours ahead of UTC
        db.session.execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))
    result = revenue(seller, 30, now=NOW)
    assert day_of(result, "EUR", date(2026, 3, 14)).sales == 100
    assert day_of(result, "EUR", date(2026, 3, 15)).sales == 200


def test_refund_requests_open_now_are_counted(seller, other_seller):
    asker = Buyer(email="asker@example.com")
    mine = paid(seller, 100, NOW - timedelta(days=200)).order  # older than any range
    closed = paid(seller, 100, NOW).order
    theirs = paid(other_seller, 100, NOW).order
    db.session.add_all([
        RefundRequest(order=mine, buyer=asker, reason="Broken"),
        RefundRequest(order=closed, buyer=asker, reason="Late", status="declined",
                      decline_reason="No"),
        RefundRequest(order=theirs, buyer=asker, reason="Other shop"),
    ])
    db.session.commit()
    assert revenue(seller, 30, now=NOW).open_refund_requests == 1


@pytest.mark.parametrize("days", [30, 90])
def test_nothing_sold_is_no_currency(seller, days):
    result = revenue(seller, days, now=NOW)
    assert result.currencies == {} and (result.orders_paid, result.refunds,
                                         result.open_refund_requests) == (0, 0, 0)
