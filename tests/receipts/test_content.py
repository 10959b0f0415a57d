"""What a receipt says, and in which language."""

import re

import pytest

from buyflow.extensions import db
from buyflow.models import Order, Payment
from buyflow.i18n import zoned_datetime
from buyflow.receipts.content import build_receipt, has_receipt
from buyflow.receipts.numbers import receipt_of
from tests.receipts.conftest import PAID_AT


def test_a_receipt_names_the_seller_the_number_the_items_and_how_it_was_paid(paid_order):
    order = paid_order()
    receipt = build_receipt(order, "en")
    assert receipt.seller_name == "Northwind Coffee" and receipt.buyer_email == "ann@example.com"
    assert receipt.seller_address == ["Northwind Coffee GmbH", "Kaffeestraße 12", "10115 Berlin"]
    assert receipt.support_email == "help@northwind.example"
    assert receipt.labels["questions"] == ("Questions about this purchase? Write to "
                                           "help@northwind.example.")
    assert receipt.number == receipt_of(order).number
    assert re.fullmatch(r"2025-\d{6}", receipt.number)  # the year it was paid in
    assert receipt.order_id == order.public_id
    assert receipt.paid_on == "Mar 4, 2025, 12:30\u202fPM UTC"
    assert [(line.name, line.quantity, line.unit_price, line.amount) for line in receipt.lines] == [
        ("Ethiopia Yirgacheffe", "2", "€14.50", "€29.00"), ("緑茶 Green tea", "1", "€4.50", "€4.50")]
    assert receipt.total == "€33.50"
    assert [(p.method, p.amount) for p in receipt.payments] == [("Visa ending in 4242", "€33.50")]
    assert receipt.refunds == [] and receipt.net_amount is None
    assert receipt.direction == "ltr"
    assert receipt.logo.startswith(b"\x89PNG") and receipt.accent == "#6f4e37"


def test_every_way_of_paying_is_named(paid_order):
    order = paid_order()
    [card] = order.payments
    card.amount = 2000
    db.session.add_all([
        Payment(order=order, provider="credit", method="credit", amount=350, currency="EUR",
                status="succeeded"),
        Payment(order=order, provider="offline", method="bank_transfer", amount=1000,
                currency="EUR", status="succeeded", reference="TRF-77"),
        Payment(order=order, provider="stripe", amount=3350, currency="EUR", status="failed",
                card_brand="mastercard", card_last4="4444"),
    ])
    db.session.commit()
    receipt = build_receipt(order, "en")
    assert [(p.method, p.amount) for p in receipt.payments] == [
        ("Visa ending in 4242", "€20.00"), ("Credit with this shop", "€3.50"),
        ("Bank transfer (TRF-77)", "€10.00")]  # the declined card is no payment


def test_refunds_so_far_and_the_net_amount(paid_order):
    order = paid_order("partially_refunded",
                       refunds=[(1000, "succeeded"), (500, "failed"), (200, "pending")])
    receipt = build_receipt(order, "en")
    assert [(refund.date, refund.amount) for refund in receipt.refunds] == [
        ("Mar 4, 2025, 12:30\u202fPM UTC", "€10.00")]
    assert receipt.net_amount == "€23.50"


def test_a_receipt_in_french_and_in_arabic(paid_order):
    order = paid_order("partially_refunded", refunds=[(1000, "succeeded")])
    french = build_receipt(order, "fr")
    assert french.total == "33,50\xa0€" and french.net_amount == "23,50\xa0€"
    assert french.labels["title"] == "Reçu" and french.paid_on == "4 mars 2025, 12:30 TU"
    assert [p.method for p in french.payments] == ["Visa se terminant par 4242"]
    arabic = build_receipt(order, "ar")
    assert arabic.direction == "rtl" and arabic.labels["total"] == "الإجمالي"


@pytest.mark.parametrize("locale, written", [
    ("en", "Mar 4, 2025, 12:30\u202fPM UTC"),
    ("ja", "2025/03/04 12:30 UTC"),
    ("zh_CN", "2025年3月4日 UTC 12:30"),  # the zone before the time, as CLDR says
    ("de", "04.03.2025, 12:30 UTC"),
])
def test_times_say_their_zone(app_context, locale, written):
    assert zoned_datetime(PAID_AT, locale) == written


def test_only_a_paid_order_has_a_receipt(paid_order):
    order = paid_order("pending")
    assert not has_receipt(order)
    with pytest.raises(ValueError):
        build_receipt(order, "en")
    assert all(has_receipt(paid_order(status)) for status in
               ("paid", "partially_refunded", "refunded"))


def test_a_paid_order_whose_receipt_was_never_issued_says_so(paid_order, seller):
    order = Order(seller=seller, checkout_key="k-unissued", buyer_email="ann@example.com",
                  status="paid", amount=100, currency="EUR", paid_at=PAID_AT)
    db.session.add(order)
    db.session.commit()
    with pytest.raises(LookupError):
        build_receipt(order, "en")
