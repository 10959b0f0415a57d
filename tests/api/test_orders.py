"""GET /api/v1/orders and /api/v1/orders/<id>."""

from datetime import UTC, datetime, timedelta

import pytest

from buyflow.extensions import db
from buyflow.models import Order
from tests.api.conftest import AUTH


def test_an_order_is_retrieved_with_its_items(client, paid_order, product):
    response = client.get(f"/api/v1/orders/{paid_order}", headers=AUTH)
    assert response.status_code == 200
    order = response.json
    assert (order["id"], order["status"], order["amount"], order["currency"]) == (
        paid_order, "paid", 1450, "EUR")
    assert order["items"][0]["product"] == product.public_id
    assert order["refunds"] == [] and order["refunded_amount"] == 0


def test_another_sellers_order_is_not_found(client, paid_order, other_seller):
    response = client.get(f"/api/v1/orders/{paid_order}",
                          headers={"Authorization": "Bearer sk_test_other"})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_without_a_key_nothing_is_listed(client, paid_order):
    response = client.get("/api/v1/orders")
    assert response.status_code == 401 and "data" not in response.json


@pytest.fixture
def many_orders(product):
    """25 orders, one per hour back from now, every fifth one paid."""
    now = datetime.now(UTC)
    orders = []
    for i in range(25):
        orders.append(Order(seller=product.seller, checkout_key=f"k{i}", amount=100 + i,
                            currency="EUR", buyer_email=f"b{i}@example.com",
                            status="paid" if i % 5 == 0 else "pending",
                            created_at=now - timedelta(hours=25 - i)))
    db.session.add_all(orders)
    db.session.commit()
    return [o.public_id for o in orders]


def test_keyset_pages_cover_every_order_once_newest_first(client, many_orders):
    seen, cursor = [], None
    while True:
        params = {"limit": 10, **({"starting_after": cursor} if cursor else {})}
        page = client.get("/api/v1/orders", query_string=params, headers=AUTH).json
        seen += [o["id"] for o in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None
            break
    assert seen == list(reversed(many_orders))


def test_orders_are_filtered_by_status_and_date(client, many_orders):
    paid = client.get("/api/v1/orders", query_string={"status": "paid"}, headers=AUTH).json
    assert [o["id"] for o in paid["data"]] == list(reversed(many_orders[::5]))
    since = (datetime.now(UTC) - timedelta(hours=5, minutes=30)).isoformat()
    recent = client.get("/api/v1/orders", query_string={"created_gte": since},
                        headers=AUTH).json
    assert [o["id"] for o in recent["data"]] == list(reversed(many_orders[-5:]))


@pytest.mark.parametrize("params, code", [
    ({"limit": 0}, "bad_request"), ({"limit": 101}, "bad_request"),
    ({"limit": "ten"}, "bad_request"), ({"status": "lost"}, "bad_request"),
    ({"created_gte": "yesterday"}, "bad_request"),
    ({"starting_after": "ord_nope"}, "bad_request"), ({"colour": "red"}, "unknown_field"),
])
def test_bad_list_parameters_get_clear_errors(client, seller, params, code):
    response = client.get("/api/v1/orders", query_string=params, headers=AUTH)
    assert response.status_code == 400 and response.json["error"]["code"] == code


def test_unknown_routes_answer_json(client, seller):
    response = client.get("/api/v1/nothing-here", headers=AUTH)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"



def orders_with_money(product, first: int, count: int) -> None:
    """``count`` paid orders, each with an item, a card payment and a partial refund."""
    from buyflow.models import OrderItem, Payment
    from tests.conftest import make_refund

    for i in range(first, first + count):
        order = Order(seller=product.seller, checkout_key=f"m{i}", amount=1450,
                      currency="EUR", buyer_email=f"m{i}@example.com", status="paid")
        order.items.append(OrderItem(name="Beans", quantity=1, unit_amount=1450, amount=1450,
                                     product_id=product.id))
        payment = Payment(order=order, provider="stripe", method="card", amount=1450,
                          currency="EUR", status="succeeded", card_brand="visa",
                          card_last4="4242")
        db.session.add_all([order, payment])
        db.session.commit()
        make_refund(payment, 450, status="succeeded")


def queries_of_a_listing(client) -> tuple[int, list]:
    """How many SQL statements one ``GET /api/v1/orders`` makes, and the orders listed."""
    from sqlalchemy import event

    statements = []

    def count(connection, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = client.get("/api/v1/orders", headers=AUTH).json
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements), page["data"]


def test_a_page_of_orders_costs_the_same_queries_for_2_orders_as_for_8(client, product):
    client.get("/api/v1/orders", headers=AUTH)  # the key's last use, noted once a minute
    orders_with_money(product, 0, 2)
    few, listed = queries_of_a_listing(client)
    assert [(o["refunded_amount"], o["payments"][0]["card"]["last4"], len(o["refunds"]))
            for o in listed] == [(450, "4242", 1)] * 2
    orders_with_money(product, 2, 6)
    many, listed = queries_of_a_listing(client)
    assert len(listed) == 8 and all(o["refunds"][0]["parts"] for o in listed)
    assert many == few  # no query per order: its items, payments and refunds come in bulk
