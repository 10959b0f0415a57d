"""Payment sources together: an order's balance over card, credit and offline payments,
credit packs, and refunds spread back over the payments that paid."""

import pytest

from buyflow.buyers.identity import buyer_for_email
from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import Order, OrderItem, Payment, Product
from buyflow.payments.balance import amount_due, amount_paid, refundable_amount
from buyflow.payments.credit import hold_credit
from buyflow.payments.offline import OfflinePaymentRefused, record_offline_payment
from buyflow.payments.refunds import RefundRefused, create_refund
from tests.flow.conftest import ANN


@pytest.fixture
def order_of(seller):
    """A pending order of ``amount`` cents for Ann, opened as the buy flow opens one."""
    count = iter(range(1000))

    def make(amount=1450, product=None):
        buyer = buyer_for_email(ANN)
        order = Order(seller=seller, buyer=buyer, buyer_email=ANN,
                      checkout_key=f"k{next(count)}", amount=amount, currency="EUR")
        order.items.append(OrderItem(product=product, name="Beans", quantity=1,
                                     unit_amount=amount, amount=amount))
        db.session.add(order)
        db.session.commit()
        return order

    return make


def test_a_bank_transfer_pays_what_is_due(order_of):
    order = order_of()
    payment = record_offline_payment(order, method="bank_transfer", amount=None,
                                     reference="TRF-2026-118", recorded_by="api_key:1")
    db.session.commit()

    assert (order.status, payment.method, payment.amount, payment.reference) == (
        "paid", "bank_transfer", 1450, "TRF-2026-118")
    assert amount_due(order) == 0


@pytest.mark.parametrize("amount, code", [(1451, "amount_exceeds_due"), (500, "partial_not_allowed"),
                                          (0, "invalid_amount")])
def test_an_offline_payment_is_refused_above_or_below_what_is_due(order_of, amount, code):
    order = order_of()
    with pytest.raises(OfflinePaymentRefused) as refused:
        record_offline_payment(order, method="cash", amount=amount, reference="till 3",
                               recorded_by="api_key:1")
    db.session.rollback()
    assert refused.value.code == code
    assert db.session.scalar(db.select(db.func.count(Payment.id))) == 0


def test_partial_offline_payments_when_the_seller_allows_them(seller, order_of):
    seller.allow_partial_offline = True
    order = order_of()
    record_offline_payment(order, method="cash", amount=1000, reference="till 3",
                           recorded_by="api_key:1")
    assert (order.status, amount_paid(order), amount_due(order)) == ("pending", 1000, 450)
    record_offline_payment(order, method="cash", amount=450, reference="till 3b",
                           recorded_by="api_key:1")
    db.session.commit()
    assert order.status == "paid"


def test_no_offline_payment_on_a_paid_order(order_of):
    order = order_of()
    record_offline_payment(order, method="phone", amount=None, reference="call 12",
                           recorded_by="api_key:1")
    with pytest.raises(OfflinePaymentRefused) as refused:
        record_offline_payment(order, method="phone", amount=None, reference="call 13",
                               recorded_by="api_key:1")
    assert (refused.value.code, refused.value.http_status) == ("order_not_payable", 409)


def test_a_credit_pack_grants_its_units_once_paid_and_a_refund_takes_them_back(seller,
                                                                              order_of):
    pack = Product(seller=seller, name="100 stars", amount=500, currency="EUR",
                   credit_amount=100, credit_unit="points:stars")
    db.session.add(pack)
    order = order_of(500, product=pack)
    record_offline_payment(order, method="invoice", amount=None, reference="INV-7",
                           recorded_by="api_key:1")
    db.session.commit()
    buyer = order.buyer
    assert book.balance(seller, buyer, "points:stars") == 100

    create_refund(order, 250, "half")
    assert book.balance(seller, buyer, "points:stars") == 50


def test_credit_and_a_bank_transfer_pay_together_and_refund_to_their_sources(seller, order_of):
    order = order_of()
    buyer = order.buyer
    book.grant(seller, buyer, "EUR", 1000, idempotency_key="welcome")
    hold_credit(order, buyer, 1000)
    assert (order.status, amount_due(order)) == ("pending", 1450)  # reserved, not taken
    record_offline_payment(order, method="bank_transfer", amount=None, reference="TRF-9",
                           recorded_by="api_key:1")
    db.session.commit()
    assert order.status == "paid"
    assert sorted((p.method, p.status, p.amount) for p in order.payments) == [
        ("bank_transfer", "succeeded", 450), ("credit", "succeeded", 1000)]

    refund = create_refund(order, 1200, "most of it")

    # The spread: other sources first (the bank transfer, 450), then credit (750).
    assert sorted((part.payment.method, part.amount, part.status) for part in refund.parts) == [
        ("bank_transfer", 450, "succeeded"), ("credit", 750, "succeeded")]
    assert refund.status == "succeeded" and order.status == "partially_refunded"
    assert book.balance(seller, buyer, "EUR") == 750
    assert refundable_amount(order) == 250
    with pytest.raises(RefundRefused):
        create_refund(order, 251, "too much")


def test_refunded_as_credit_whatever_paid(seller, order_of):
    order = order_of()
    record_offline_payment(order, method="cash", amount=None, reference="till 1",
                           recorded_by="api_key:1")
    db.session.commit()

    refund = create_refund(order, None, "as credit, the buyer asked", destination="credit")

    assert [(p.destination, p.status) for p in refund.parts] == [("credit", "succeeded")]
    assert book.balance(seller, order.buyer, "EUR") == 1450
    assert order.status == "refunded"
