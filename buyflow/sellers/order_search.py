"""A seller's orders, searched: the one service behind the seller API's order list
(``api/views.py:list_orders``) and the console's orders page and CSV export.

Filters (all optional, combined with AND): the status, the creation time (``created_gte``
≤ created < ``created_lt``), the buyer's email (the whole address, normalized as it is
stored), the order's public id, the seller's reference. Orders come newest first, by
id, a page at a time (keyset: ``starting_after`` an order, or ``ending_before`` one for
the page before), so a page costs the same however long the history. Each filter walks
an index (migration 0014 and the models): (seller, id), (seller, status, id), (seller,
created_at), (seller, status, created_at); an email the (buyer_email, id) index; an
order id its unique public id; a reference the unique checkout key every order of a
reference has (``flow/purchase.py``).

Reads only: nothing here writes or commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import selectinload

from ..buyers.identity import normalized_email
from ..errors import CodedError
from ..extensions import db
from ..models import Order, Refund, RefundPart, Seller
from ..payments.states import RefundStatus


class UnknownCursor(CodedError):
    """The order a page starts after (or ends before) is none of the seller's."""

    def __init__(self, parameter: str):
        super().__init__("bad_request", f"'{parameter}' is not one of your orders.")
        self.parameter = parameter


@dataclass(frozen=True)
class OrderFilters:
    status: str | None = None
    created_gte: datetime | None = None
    created_lt: datetime | None = None
    email: str | None = None  # the whole address
    order_id: str | None = None  # the order's public id
    reference: str | None = None  # the seller's own id for the purchase

    def __bool__(self) -> bool:
        return any(value not in (None, "") for value in self.__dict__.values())


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    has_more: bool  # older orders follow this page
    has_newer: bool  # newer orders precede it (known only when paging backwards or after)

    @property
    def next_cursor(self) -> str | None:
        """The ``starting_after`` of the page after this one, if there is one."""
        return self.orders[-1].public_id if self.has_more else None

    @property
    def previous_cursor(self) -> str | None:
        """The ``ending_before`` of the page before this one, if there is one."""
        return self.orders[0].public_id if self.has_newer and self.orders else None


# What each order's API payload (sellers/payloads.py:order_payload) reads, loaded for the
# whole page at once: a few queries per page instead of a few per order.
PAYLOAD = (selectinload(Order.items), selectinload(Order.payments),
           selectinload(Order.refunds).selectinload(Refund.parts))
# What a row of the console's list shows.
SUMMARY = (selectinload(Order.items),)


def reference_key(seller: Seller, reference: str) -> str:
    """The checkout key of the order of ``reference`` at ``seller``: every flow for a
    reference finds the same order by it (``flow/purchase.py:Purchase.checkout_key``)."""
    return hashlib.sha256(f"{seller.public_id}\n{reference}".encode()).hexdigest()[:64]


def filtered(seller: Seller, filters: OrderFilters, *columns):
    """The SELECT of ``seller``'s orders (or of ``columns`` of them) that ``filters``
    keep, unordered."""
    statement = db.select(*columns) if columns else db.select(Order)
    if filters.email:
        # An email has few orders: walk its (buyer_email, id) index. ``seller_id + 0``
        # keeps the planner off the seller's indexes, which would walk all the seller's
        # orders (SQLite has no statistics to tell, unless ANALYZE was run).
        email = normalized_email(filters.email) or filters.email.strip().lower()
        statement = statement.where(Order.buyer_email == email,
                                    Order.seller_id + 0 == seller.id)
    else:
        statement = statement.where(Order.seller_id == seller.id)
    if filters.status is not None:
        statement = statement.where(Order.status == filters.status)
    if filters.created_gte is not None:
        statement = statement.where(Order.created_at >= filters.created_gte)
    if filters.created_lt is not None:
        statement = statement.where(Order.created_at < filters.created_lt)
    if filters.order_id:
        statement = statement.where(Order.public_id == filters.order_id.strip())
    if filters.reference:
        statement = statement.where(
            Order.checkout_key == reference_key(seller, filters.reference),
            Order.seller_reference == filters.reference)
    return statement


def _order_id(seller: Seller, public_id: str, parameter: str) -> int:
    found = db.session.scalar(db.select(Order.id).filter_by(public_id=public_id,
                                                            seller_id=seller.id))
    if found is None:
        raise UnknownCursor(parameter)
    return found


def search_orders(seller: Seller, filters: OrderFilters = OrderFilters(), *,
                  limit: int = 20, starting_after: str | None = None,
                  ending_before: str | None = None, load=PAYLOAD) -> OrderPage:
    """A page of ``limit`` of ``seller``'s orders that ``filters`` keep, newest first:
    the first page, the one after the order ``starting_after`` or the one before the
    order ``ending_before`` (an empty cursor is the first page, as none); ``load`` is
    what to load with them (``PAYLOAD``, ``SUMMARY``, or ``()``). A cursor that is not
    one of the seller's orders (whatever the filters) raises ``UnknownCursor``."""
    statement = filtered(seller, filters)
    if starting_after:
        statement = statement.where(
            Order.id < _order_id(seller, starting_after, "starting_after"))
    elif ending_before:
        statement = statement.where(
            Order.id > _order_id(seller, ending_before, "ending_before"))
    if load:
        statement = statement.options(*load)
    if ending_before and not starting_after:  # the page before: walked the other way
        orders = db.session.scalars(statement.order_by(Order.id.asc())
                                    .limit(limit + 1)).all()
        page = list(reversed(orders[:limit]))
        return OrderPage(page, has_more=True, has_newer=len(orders) > limit)
    orders = db.session.scalars(statement.order_by(Order.id.desc()).limit(limit + 1)).all()
    return OrderPage(orders[:limit], has_more=len(orders) > limit,
                     has_newer=bool(starting_after))


def refunded_column():
    """What was given back of an order (the succeeded parts of its refunds, as
    ``payments.balance.refunded_amount`` counts), as a correlated subquery."""
    return (db.select(func.coalesce(func.sum(RefundPart.amount), 0))
            .join(Refund, Refund.id == RefundPart.refund_id)
            .where(Refund.order_id == Order.id, RefundPart.status == RefundStatus.SUCCEEDED)
            .scalar_subquery())


EXPORT_COLUMNS = (Order.id, Order.public_id, Order.created_at, Order.paid_at, Order.status,
                  Order.buyer_email, Order.seller_reference, Order.currency, Order.amount)


def export_rows(seller: Seller, filters: OrderFilters = OrderFilters(), *,
                batch: int = 500) -> Iterator:
    """Every order ``filters`` keep, newest first, as rows of plain values (id,
    public_id, created_at, paid_at, status, buyer_email, seller_reference, currency,
    amount, refunded), fetched ``batch`` at a time by keyset, so an export of any size
    holds one batch in memory and loads no objects."""
    statement = filtered(seller, filters, *EXPORT_COLUMNS,
                         refunded_column().label("refunded"))
    before = None
    while True:
        query = statement if before is None else statement.where(Order.id < before)
        rows = db.session.execute(query.order_by(Order.id.desc()).limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        before = rows[-1].id
