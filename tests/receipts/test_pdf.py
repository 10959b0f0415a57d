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


def test_the_pdf_names_the_seller_the_number_and_how_it_was_paid(paid_order):
    order = paid_order()
    receipt = build_receipt(order, "en")
    text = pdf_text(receipt_pdf(receipt))
    for words in ("Northwind Coffee", "Kaffeestraße 12", "10115 Berlin",
                  "help@northwind.example", f"Receipt number {receipt.number}", order.public_id,
                  receipt.paid_on, "Visa ending in 4242", "€33.50"):
        assert words in text


def test_the_pdf_shows_the_sellers_logo(paid_order):
    [page] = PdfReader(io.BytesIO(receipt_pdf(build_receipt(paid_order(), "en")))).pages
    [image] = page.images
    assert image.image.size == (192, 192)


@pytest.mark.parametrize("locale, words", [
    ("fr", ["Reçu", "Commande", "33,50 €", "Remboursements", "23,50 €"]),
    ("ja", ["領収書", "注文番号", "合計", "€33.50", "返金", "Visa カード"]),
    ("ar", ["إيصال", "الإجمالي", "33.50", "بطاقة", "المبالغ المستردة"]),
    ("he", ["קבלה", "סה״כ", "33.50"]),
    ("ru", ["Чек", "Итого", "33,50"]),
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
    assert "Reçu" in text and "CJK font" in caplog.text
