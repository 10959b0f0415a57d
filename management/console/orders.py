"""The seller's orders: a list searched by the buyer's email, the order's id, the
seller's reference, the status and the creation dates (a GET form: the URL is the
search, to bookmark or share with the team), newest first by keyset pages, and the same
set as CSV. Both go through ``buyflow/sellers/order_search.py``, the service the API's
order list uses.

Dates are UTC days, both ends included ("from" its first moment, "to" until the next
day's). A bad date, status or page cursor answers the page with its error, 400.

The CSV (``orders.csv``) streams every matching order, in batches, with a header row:
times in ISO 8601 UTC, the status's code (as the API names it), amounts in major units
(``14.50``) beside their currency's code; UTF-8 with a byte order mark, so spreadsheets
read accents. A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading ``'`` so no spreadsheet runs it as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

from flask import Response, render_template, request, stream_with_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from buyflow.models._base import utcnow
from buyflow.money import Money, format_money
from buyflow.people.roles import Permission
from buyflow.sellers.order_search import (
    SUMMARY,
    OrderFilters,
    UnknownCursor,
    export_rows,
    search_orders,
)

from ..account.labels import ORDER_STATUSES
from . import bp
from .access import current_seller, member_page

PAGE_SIZE = 25
CURSORS = ("after", "before")


class DayField(DateField):
    """A day as ``YYYY-MM-DD`` (what a date input sends), with our own message."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD, for example 2026-03-31.")) from None


class OrderSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search: it changes nothing

    email = StringField(_l("Buyer's email"), validators=[Optional(), Length(max=320)])
    order = StringField(_l("Order id"), validators=[Optional(), Length(max=40)])
    reference = StringField(_l("Your reference"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), validate_choice=False, choices=[
        SelectChoice("", _l("Any status")),
        *(SelectChoice(value, label) for value, label in ORDER_STATUSES.items())])
    created_from = DayField(_l("Created from"), validators=[Optional()])
    created_to = DayField(_l("Created to"), validators=[Optional()])

    def validate_status(self, field):
        if field.data and field.data not in ORDER_STATUSES:
            raise ValidationError(_("Choose a status from the list."))

    def validate_created_to(self, field):
        if field.data and self.created_from.data and field.data < self.created_from.data:
            raise ValidationError(_("The last day cannot be before the first one."))

    def filters(self) -> OrderFilters:
        def start(day: date | None) -> datetime | None:
            return datetime.combine(day, time(), tzinfo=UTC) if day else None

        return OrderFilters(
            status=self.status.data or None,
            created_gte=start(self.created_from.data),
            created_lt=start(self.created_to.data + timedelta(days=1))
            if self.created_to.data else None,
            email=(self.email.data or "").strip() or None,
            order_id=(self.order.data or "").strip() or None,
            reference=self.reference.data or None)


def money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), str(get_locale()))


def _search_form() -> OrderSearchForm:
    return OrderSearchForm(formdata=request.args)


def search_args() -> dict:
    """The page's search, as the query arguments of its links (no empty ones, no
    cursor)."""
    return {name: value for name, value in request.args.items()
            if value and name not in CURSORS}


@bp.get("/<seller_id>/orders")
@member_page(Permission.VIEW)
def orders():
    """The seller's orders that the search keeps, a page at a time."""
    form = _search_form()
    page, error = None, None
    if form.validate():
        try:
            page = search_orders(current_seller(), form.filters(), limit=PAGE_SIZE,
                                 starting_after=request.args.get("after"),
                                 ending_before=request.args.get("before"), load=SUMMARY)
        except UnknownCursor:
            error = _("This page of orders is no longer there. Start again from the first page.")
    return render_template("console/orders.html", form=form, page=page, error=error,
                           search=search_args(), money=money), 200 if page is not None else 400


def _safe(value) -> str:
    """A cell as text, with a ``'`` before what a spreadsheet would take for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _moment(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


def _major(amount: int, currency: str) -> str:
    return str(Money(int(amount), currency).decimal)


@bp.get("/<seller_id>/orders.csv")
@member_page(Permission.VIEW)
def orders_csv():
    """The orders the search keeps, all of them, as CSV."""
    form = _search_form()
    if not form.validate():
        return render_template("console/orders.html", form=form, page=None, error=None,
                               search=search_args(), money=money), 400
    seller, filters = current_seller(), form.filters()
    header = [_("Order"), _("Created (UTC)"), _("Paid (UTC)"), _("Status"), _("Email"),
              _("Reference"), _("Currency"), _("Amount"), _("Refunded")]

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)

        def line(cells) -> str:
            writer.writerow([_safe(cell) for cell in cells])
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        yield "\ufeff" + line(header)
        for row in export_rows(seller, filters):
            yield line([row.public_id, _moment(row.created_at), _moment(row.paid_at),
                        row.status, row.buyer_email, row.seller_reference, row.currency,
                        _major(row.amount, row.currency), _major(row.refunded, row.currency)])

    filename = f"orders-{seller.public_id}-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
