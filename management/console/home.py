"""The console's home: what the seller sold over the last 30 or 90 days, per currency
(``buyflow/sellers/revenue.py``: net sales per UTC day, drawn by ``chart.py`` with its
table), and the counts of orders paid, refunds made and refund requests waiting.

``?days=`` chooses the range: 30 or 90; anything else (absent, empty, another number,
not a number) shows the 30 days, as the page's heading says."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from buyflow.i18n import text_direction
from buyflow.money import Money, format_money
from buyflow.people.roles import Permission
from buyflow.sellers.revenue import RANGES, revenue

from . import bp
from .access import current_seller, member_page
from .chart import Bar, BarChart, bar_chart


def _days() -> int:
    try:
        days = int(request.args.get("days", ""))
    except ValueError:
        return RANGES[0]
    return days if days in RANGES else RANGES[0]


def currency_chart(currency: str, figures: list, totals, text_direction: str) -> BarChart:
    """The chart of one currency's net sales per day, with its table (drawn by
    ``console/chart.html``)."""
    locale = str(get_locale())

    def money(amount: int) -> str:
        return format_money(Money(amount, currency), locale)

    bars = [Bar(label=format_date(day.day, "medium"), value=day.net, text=money(day.net),
                row=(money(day.sales), money(day.refunded), money(day.net)))
            for day in figures]
    first, last = bars[0].label, bars[-1].label
    return bar_chart(
        bars, chart_id=f"chart-{currency.lower()}",
        title=_("Net sales per day in %(currency)s", currency=currency),
        description=_("From %(first)s to %(last)s: %(net)s net, %(sales)s sold, "
                      "%(refunded)s refunded.", first=first, last=last,
                      net=money(totals.net), sales=money(totals.sales),
                      refunded=money(totals.refunded)),
        columns=(_("Day"), _("Sold"), _("Refunded"), _("Net")),
        caption=_("Sales and refunds per day in %(currency)s", currency=currency),
        direction=text_direction,
        top_text=money(max([0, *(day.net for day in figures)])),
        bottom_text=money(min([0, *(day.net for day in figures)])))


@bp.get("/<seller_id>/")
@member_page(Permission.VIEW)
def home():
    """The seller's figures over the last 30 (or 90) days."""
    days = _days()
    figures = revenue(current_seller(), days)
    direction = text_direction(str(get_locale()))
    charts = [(currency, figures.totals(currency),
               currency_chart(currency, per_day, figures.totals(currency), direction))
              for currency, per_day in figures.currencies.items()]
    money = lambda amount, currency: format_money(Money(amount, currency),  # noqa: E731
                                                  str(get_locale()))
    return render_template("console/home.html", figures=figures, days=days,
                           ranges=RANGES, charts=charts, money=money)
