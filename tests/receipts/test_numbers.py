"""Receipt numbers: one per paid order, issued in the paying transaction, whatever
announces the payment and however often."""

import re
import threading

from buyflow.events import announce
from buyflow.extensions import db
from buyflow.models import Order, Receipt
from buyflow.models._base import utcnow
from buyflow.payments.offline import record_offline_payment
from buyflow.receipts.numbers import issue_receipt, receipt_of


def unpaid_order(seller, key="k-offline") -> Order:
    order = Order(seller=seller, checkout_key=key, amount=1450, currency="EUR",
                  buyer_email="ann@example.com")
    db.session.add(order)
    db.session.commit()
    return order


def pay_offline(order: Order) -> None:
    record_offline_payment(order, method="bank_transfer", amount=None, reference="TRF-1",
                           recorded_by="api_key:1")


def receipts() -> list[tuple[int, str]]:
    return [(r.order_id, r.number) for r in db.session.scalars(
        db.select(Receipt).order_by(Receipt.id))]


def test_a_purchase_issues_its_receipt_once(seller, product, buy):
    first = buy(seller, product).json
    second = buy(seller, product, email="bob@example.com").json
    assert first["status"] == second["status"] == "paid"
    orders = [db.session.scalar(db.select(Order).filter_by(public_id=answer["order"]))
              for answer in (first, second)]
    issued = receipts()
    assert [order_id for order_id, _ in issued] == [order.id for order in orders]
    year = f"{orders[0].paid_at:%Y}"
    assert all(re.fullmatch(rf"{year}-\d{{6}}", number) for _, number in issued)
    assert issued[0][1] < issued[1][1]  # numbered in the order they were paid


def test_announcing_the_payment_again_issues_nothing_more(seller):
    order = unpaid_order(seller)
    pay_offline(order)
    db.session.commit()
    number = receipt_of(order).number
    announce("order.paid", order=order)
    assert issue_receipt(order).number == number
    db.session.commit()
    assert receipts() == [(order.id, number)]


def test_the_number_rolls_back_with_the_payment(seller):
    order = unpaid_order(seller)
    pay_offline(order)
    assert receipt_of(order) is not None  # in the paying transaction
    db.session.rollback()
    assert receipts() == [] and db.session.get(Order, order.id).status == "pending"


def test_a_failed_payment_has_no_receipt(seller, product, buy):
    declined = buy(seller, product, number="4000000000000341").json
    assert declined["status"] != "paid"
    assert receipts() == []


def test_two_transactions_issuing_at_once_make_one_receipt(app, seller):
    order = unpaid_order(seller)
    order.status, order.paid_at = "paid", utcnow()
    db.session.commit()
    order_id = order.id
    both_ready = threading.Barrier(2)
    numbers, errors = [], []

    def issue():
        with app.app_context():
            try:
                paid = db.session.get(Order, order_id)
                both_ready.wait(5)
                numbers.append(issue_receipt(paid).number)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    db.session.expire_all()
    [(_, number)] = receipts()
    assert numbers == [number, number]  # each saw the one receipt
