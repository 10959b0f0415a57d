"""What the models share (models/_base.py): ``insert_row``, a new row written as one
statement and standing in the session as if it had been read."""

from sqlalchemy import event, inspect

from buyflow.extensions import db
from buyflow.models import Order
from buyflow.models._base import insert_row


def written_order(seller, **values) -> Order:
    return insert_row(Order, seller_id=seller.id, buyer_email="ann@example.com",
                      checkout_key="key-1", amount=1450, currency="EUR", **values)


def test_the_row_written_is_the_one_its_instance_stands_for(seller):
    order = written_order(seller, status="pending")

    assert inspect(order).persistent and not db.session.new and not db.session.dirty
    assert order.id is not None and order.public_id.startswith("ord_")
    db.session.commit()
    row = db.session.execute(db.select(Order.__table__).where(
        Order.__table__.c.id == order.id)).one()
    assert (row.public_id, row.buyer_email, row.amount, row.status, row.locale) == (
        order.public_id, "ann@example.com", 1450, "pending", "en")  # locale: its default


def test_a_column_not_given_is_read_from_the_row_when_used(seller):
    order = written_order(seller)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert order.amount == 1450 and not statements  # given: not read
        assert order.locale == "en" and order.created_at is not None  # the defaults
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1 and statements[0].startswith("SELECT")


def test_a_row_rolled_back_is_gone_with_its_instance(seller):
    order = written_order(seller)
    order_id = order.id
    db.session.rollback()

    assert db.session.get(Order, order_id) is None
