"""The receipt as a PDF, readable in every script the locales use."""

import io
import logging

import pytest
from pypdf import PdfReader

from buyflow.receipts.content import build_receipt
from buyflow.receipts.pdf import receipt_pdf


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("locale, words", [
    ("fr", ["Boutique", "Commande", "33,50 €", "Remboursements", "23,50 €"]),
    ("ja", ["ショップ", "注文番号", "合計", "€33.50", "返金", "Visa カード"]),
    ("ar", ["المتجر", "الإجمالي", "33.50", "بطاقة", "المبالغ المستردة"]),
    ("he", ["חנות", "סה״כ", "33.50"]),
    ("ru", ["Магазин", "Итого", "33,50"]),
])
def test_the_pdf_says_it_in_the_locale(paid_order, locale, words):
    order = paid_order("partially_refunded", refunds=[(1000, "succeeded")])
    text = pdf_text(receipt_pdf(build_receipt(order, locale)))
    assert order.public_id in text and "Ethiopia Yirgacheffe" in text and "緑茶" in text
    for word in words:
        assert word in text


def test_every_shipped_locale_makes_a_pdf_in_its_language(app, paid_order):
    order = paid_order()
    for locale in app.config["LANGUAGES"]:
        receipt = build_receipt(order, locale)
        text = pdf_text(receipt_pdf(receipt))
        assert order.public_id in text and receipt.labels["total"] in text, locale


def test_without_the_cjk_font_the_pdf_is_still_made(app, paid_order, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "RECEIPT_CJK_FONT", "/nonexistent/font.ttc")
    with caplog.at_level(logging.WARNING, logger="buyflow.receipts.pdf"):
        text = pdf_text(receipt_pdf(build_receipt(paid_order(), "fr")))
    assert "Boutique" in text and "CJK font" in caplog.text
