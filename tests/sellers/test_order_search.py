"""The seller's orders search (sellers/order_search.py): the filters, keyset pages both
ways, the export's batches; the one service the API and the console share."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from buyflow.extensions import db
from buyflow.flow.purchase import Purchase
from buyflow.models import Order, Payment
from buyflow.sellers.order_search import (
    OrderFilters,
    UnknownCursor,
    export_rows,
    filtered,
    reference_key,
    search_orders,
)
from tests.conftest import make_refund

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def order(seller, n: int, *, status="paid", email=None, reference=None, created=None,
          amount=1000, currency="EUR") -> Order:
    made = Order(seller=seller, buyer_email=email or f"b{n}@example.com", status=status,
                 checkout_key=reference_key(seller, reference) if reference else f"key-{n}",
                 seller_reference=reference, amount=amount, currency=currency,
                 created_at=created or NOW - timedelta(hours=100 - n))
    db.session.add(made)
    return made


@pytest.fixture
def orders(seller, other_seller):
    """20 orders an hour apart, every fourth pending, and one of another seller."""
    made = [order(seller, n, status="pending" if n % 4 == 0 else "paid") for n in range(20)]
    order(other_seller, 99, email="b3@example.com")
    db.session.commit()
    return [o.public_id for o in made]


def ids(page) -> list[str]:
    return [o.public_id for o in page.orders]


def test_pages_walk_every_order_once_newest_first_then_back(seller, orders):
    newest_first = list(reversed(orders))
    seen, cursor, pages = [], None, []
    while True:
        page = search_orders(seller, limit=6, starting_after=cursor)
        pages.append(page)
        seen += ids(page)
        if not page.has_more:
            assert page.next_cursor is None
            break
        cursor = page.next_cursor
    assert seen == newest_first and [len(p.orders) for p in pages] == [6, 6, 6, 2]
    assert pages[0].previous_cursor is None and pages[1].previous_cursor == newest_first[6]
    # Back from the last page: the pages before it, the same orders.
    back = search_orders(seller, limit=6, ending_before=pages[-1].previous_cursor)
    assert ids(back) == ids(pages[-2]) and back.has_newer and back.has_more
    first = search_orders(seller, limit=6, ending_before=pages[1].previous_cursor)
    assert ids(first) == ids(pages[0]) and not first.has_newer


def test_each_filter_and_their_combination(seller, orders, other_seller):
    seller_orders = list(reversed(orders))
    paid = search_orders(seller, OrderFilters(status="paid"), limit=50)
    assert ids(paid) == [i for n, i in reversed(list(enumerate(orders))) if n % 4]
    since = NOW - timedelta(hours=100 - 15)
    recent = search_orders(seller, OrderFilters(created_gte=since), limit=50)
    assert ids(recent) == seller_orders[:5]
    window = search_orders(seller, OrderFilters(
        status="pending", created_gte=since - timedelta(hours=8), created_lt=since), limit=50)
    assert ids(window) == [orders[12], orders[8]]
    # The whole email, as typed (case, spaces): only this seller's order of it.
    assert ids(search_orders(seller, OrderFilters(email="  B3@Example.COM "))) == [orders[3]]
    assert ids(search_orders(seller, OrderFilters(email="b3@"))) == []
    assert ids(search_orders(seller, OrderFilters(order_id=orders[7]))) == [orders[7]]
    assert ids(search_orders(seller, OrderFilters(order_id=orders[7], status="pending"))) == []
    theirs = db.session.scalar(db.select(Order.public_id).filter_by(seller_id=other_seller.id))
    assert ids(search_orders(seller, OrderFilters(order_id=theirs))) == []


def test_a_reference_finds_its_order_through_the_checkout_key(seller, other_seller):
    mine = order(seller, 1, reference="INV-7")
    order(other_seller, 2, reference="INV-7")
    order(seller, 3, reference="INV-70")
    db.session.commit()
    assert ids(search_orders(seller, OrderFilters(reference="INV-7"))) == [mine.public_id]
    assert ids(search_orders(seller, OrderFilters(reference="INV"))) == []
    # The key is the buy flow's own for a reference: every flow for it finds this order.
    purchase = Purchase(lines=[], currency="EUR", reference="INV-7")
    assert purchase.checkout_key(seller, "random") == reference_key(seller, "INV-7")


@pytest.mark.parametrize("cursor", ["ord_nope", "", None])
def test_a_cursor_must_be_one_of_the_sellers_orders(seller, orders, other_seller, cursor):
    if cursor == "":  # empty is the first page, as absent
        assert len(search_orders(seller, starting_after="", limit=5).orders) == 5
        return
    theirs = db.session.scalar(db.select(Order.public_id).filter_by(seller_id=other_seller.id))
    for parameter, wrong in (("starting_after", cursor or theirs),
                             ("ending_before", cursor or theirs)):
        with pytest.raises(UnknownCursor) as refused:
            search_orders(seller, **{parameter: wrong})
        assert refused.value.code == "bad_request"
        assert refused.value.message == f"'{parameter}' is not one of your orders."


def test_the_export_reads_every_order_in_batches_with_what_was_refunded(seller, orders):
    paid = db.session.scalar(db.select(Order).filter_by(public_id=orders[-1]))
    payment = Payment(order=paid, provider="stripe", method="card", amount=1000,
                      currency="EUR", status="succeeded")
    db.session.add(payment)
    db.session.commit()
    make_refund(payment, 250, status="succeeded")
    make_refund(payment, 100, status="failed")
    rows = list(export_rows(seller, OrderFilters(), batch=3))
    assert [row.public_id for row in rows] == list(reversed(orders))
    assert (rows[0].refunded, rows[0].amount, rows[0].currency) == (250, 1000, "EUR")
    assert {row.refunded for row in rows[1:]} == {0}
    pending = list(export_rows(seller, OrderFilters(status="pending"), batch=2))
    assert len(pending) == 5


def test_each_search_walks_an_index(seller, orders):
    """On SQLite (the plan of a small table on PostgreSQL is a sequential scan, whatever
    the indexes): the API's filters walk the indexes of migration 0014; an email the
    (buyer_email, id) index; a reference the checkout key's."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("query plans of SQLite")

    def plan(filters: OrderFilters) -> str:
        statement = filtered(seller, filters).order_by(Order.id.desc()).limit(21)
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        return " ".join(row[-1] for row in db.session.execute(
            text(f"EXPLAIN QUERY PLAN {compiled}")))

    assert "ix_orders_seller_id_id" in plan(OrderFilters())
    assert "ix_orders_seller_status_id" in plan(OrderFilters(status="paid"))
    assert "ix_orders_buyer_email_id" in plan(OrderFilters(email="b3@example.com"))
    assert "checkout_key" in plan(OrderFilters(reference="INV-7"))
    assert "public_id" in plan(OrderFilters(order_id=orders[0]))
