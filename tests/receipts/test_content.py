"""What a receipt says, and in which language."""

import pytest

from buyflow.receipts.content import build_receipt, has_receipt


def test_a_receipt_lists_items_cards_and_totals(paid_order):
    receipt = build_receipt(paid_order(), "en")
    assert receipt.seller_name == "Northwind Coffee" and receipt.buyer_email == "ann@example.com"
    assert receipt.paid_on == "Mar 4, 2025, 12:30:00\u202fPM"
    assert [(line.name, line.quantity, line.unit_price, line.amount) for line in receipt.lines] == [
        ("Ethiopia Yirgacheffe", "2", "€14.50", "€29.00"), ("緑茶 Green tea", "1", "€4.50", "€4.50")]
    assert receipt.total == "€33.50"
    assert receipt.cards == ["card Visa ending in 4242"]
    assert receipt.refunds == [] and receipt.net_amount is None
    assert receipt.direction == "ltr"


def test_refunds_so_far_and_the_net_amount(paid_order):
    order = paid_order("partially_refunded",
                       refunds=[(1000, "succeeded"), (500, "failed"), (200, "pending")])
    receipt = build_receipt(order, "en")
    assert [refund.amount for refund in receipt.refunds] == ["€10.00"]
    assert receipt.net_amount == "€23.50"


def test_a_receipt_in_french_and_in_arabic(paid_order):
    order = paid_order("partially_refunded", refunds=[(1000, "succeeded")])
    french = build_receipt(order, "fr")
    assert french.total == "33,50\xa0€" and french.net_amount == "23,50\xa0€"
    assert french.labels["shop"] == "Boutique" and french.paid_on.startswith("4 mars 2025")
    assert french.cards == ["carte Visa se terminant par 4242"]
    arabic = build_receipt(order, "ar")
    assert arabic.direction == "rtl" and arabic.labels["total"] == "الإجمالي"


def test_only_a_paid_order_has_a_receipt(paid_order):
    order = paid_order("pending")
    assert not has_receipt(order)
    with pytest.raises(ValueError):
        build_receipt(order, "en")
    assert all(has_receipt(paid_order(status)) for status in
               ("paid", "partially_refunded", "refunded"))
