"""What a seller sold over the last days, per day and currency, and the counts its
console's home page shows. SQL aggregates (one GROUP BY per figure), the same on SQLite
and PostgreSQL.

- **Sales** of a day: the totals of the orders paid that day (``paid_at``; an order paid
  once counts once, whatever happened to it after).
- **Refunded** of a day: what refunds of orders gave back that day (their parts that
  succeeded, by the time the part last changed: when it succeeded). A refund of an
  overpayment (a charge the order did not need) is not counted: it was never a sale.
- **Net** = sales − refunded (below zero on a day that refunded more than it sold).

Days are UTC days; the last of them is today (UTC). Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import String, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import db
from ..models import Order, Refund, RefundPart, RefundRequest, Seller
from ..models.requests import RefundRequestStatus
from ..payments.states import RefundKind, RefundStatus

RANGES = (30, 90)  # the ranges the console offers, in days


class utc_day(FunctionElement):
    """The UTC day of a time column, as ``YYYY-MM-DD`` text, on either database."""

    type = String()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_sqlite(element, compiler, **kw):
    # SQLite keeps our times as UTC text (models/_base.py: UTCDateTime).
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element, compiler, **kw):
    return (f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', "
            f"'YYYY-MM-DD')")


@dataclass
class Day:
    day: date
    sales: int = 0  # minor units
    refunded: int = 0

    @property
    def net(self) -> int:
        return self.sales - self.refunded


@dataclass
class Revenue:
    days: int
    first_day: date
    last_day: date
    # Per currency (sorted by code), one Day per day of the range, oldest first.
    currencies: dict[str, list[Day]] = field(default_factory=dict)
    orders_paid: int = 0  # in the range
    refunds: int = 0  # refunds of orders that succeeded (in whole or in part) in the range
    open_refund_requests: int = 0  # now, whatever their age

    def totals(self, currency: str) -> Day:
        """The range's sums in ``currency`` (``day`` is its last day)."""
        days = self.currencies[currency]
        return Day(self.last_day, sum(d.sales for d in days), sum(d.refunded for d in days))


def day_range(days: int, now: datetime | None = None) -> tuple[date, datetime]:
    """The first day of the last ``days`` UTC days ending today, and its first moment."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    return first, datetime.combine(first, time(), tzinfo=UTC)


def revenue(seller: Seller, days: int = 30, now: datetime | None = None) -> Revenue:
    """``seller``'s sales, refunds and net per day and currency over the last ``days``
    UTC days (today the last), with the counts of orders paid and refunds made in them
    and of the refund requests open now."""
    first, since = day_range(days, now)
    last = first + timedelta(days=days - 1)
    result = Revenue(days=days, first_day=first, last_day=last)

    paid_day = utc_day(Order.paid_at)
    sales = db.session.execute(
        db.select(Order.currency, paid_day, func.count(), func.sum(Order.amount))
        .where(Order.seller_id == seller.id, Order.paid_at.is_not(None),
               Order.paid_at >= since)
        .group_by(Order.currency, paid_day)).all()

    part_day = utc_day(RefundPart.updated_at)
    refunded = db.session.execute(
        db.select(Refund.currency, part_day, func.sum(RefundPart.amount))
        .join(Refund, Refund.id == RefundPart.refund_id)
        .join(Order, Order.id == Refund.order_id)
        .where(Order.seller_id == seller.id, Refund.kind == RefundKind.ORDER,
               RefundPart.status == RefundStatus.SUCCEEDED, RefundPart.updated_at >= since)
        .group_by(Refund.currency, part_day)).all()

    def days_of(currency: str) -> dict[date, Day]:
        if currency not in result.currencies:
            result.currencies[currency] = [Day(first + timedelta(days=n)) for n in range(days)]
        return {d.day: d for d in result.currencies[currency]}

    for currency, day, count, amount in sales:
        found = days_of(currency).get(date.fromisoformat(day))
        if found is not None:  # a time after now (a clock ahead) is in no day shown
            found.sales += int(amount)
            result.orders_paid += count
    for currency, day, amount in refunded:
        found = days_of(currency).get(date.fromisoformat(day))
        if found is not None:
            found.refunded += int(amount)
    result.currencies = dict(sorted(result.currencies.items()))

    result.refunds = db.session.scalar(
        db.select(func.count(func.distinct(Refund.id)))
        .join(RefundPart, RefundPart.refund_id == Refund.id)
        .join(Order, Order.id == Refund.order_id)
        .where(Order.seller_id == seller.id, Refund.kind == RefundKind.ORDER,
               RefundPart.status == RefundStatus.SUCCEEDED, RefundPart.updated_at >= since))
    result.open_refund_requests = db.session.scalar(
        db.select(func.count(RefundRequest.id))
        .join(Order, Order.id == RefundRequest.order_id)
        .where(Order.seller_id == seller.id,
               RefundRequest.status == RefundRequestStatus.OPEN))
    return result
