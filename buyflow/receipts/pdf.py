"""A receipt as a PDF (fpdf2), in any of the shipped locales.

fpdf2's core fonts are Latin-1 only, so the text is set in Unicode TrueType fonts: DejaVu
Sans, bundled here (Latin, Greek, Cyrillic, Arabic, Hebrew), and a CJK font from the
system (``RECEIPT_CJK_FONT``, Debian's WenQuanYi Micro Hei by default) for Chinese,
Japanese and Korean. Each is the other's fallback, so a product name in another script
than the locale's still shows. Text shaping (HarfBuzz, through uharfbuzz) joins Arabic
letters and orders right-to-left text; in a right-to-left locale the layout is mirrored.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app
from fpdf import FPDF
from fpdf.fonts import FontFace

from .content import Receipt

log = logging.getLogger(__name__)

FONTS = Path(__file__).parent / "fonts"
CJK_LANGUAGES = ("ja", "ko", "zh")


def _cjk_font() -> Path | None:
    """The configured CJK font, or None (with a warning) when it is not installed."""
    configured = current_app.config["RECEIPT_CJK_FONT"]
    path = Path(configured) if configured else None
    if path is None or not path.is_file():
        log.warning("receipt CJK font %s is missing: Chinese, Japanese and Korean text "
                    "will not show in PDF receipts (install fonts-wqy-microhei)", configured)
        return None
    return path


def _set_up_fonts(pdf: FPDF, locale: str) -> None:
    """Register the fonts and choose the locale's main one, the others as fallbacks."""
    pdf.add_font("dejavu", "", FONTS / "DejaVuSans.ttf")
    pdf.add_font("dejavu", "B", FONTS / "DejaVuSans-Bold.ttf")
    families = ["dejavu"]
    cjk = _cjk_font()
    if cjk is not None:
        pdf.add_font("cjk", "", cjk)
        if locale.split("_")[0] in CJK_LANGUAGES:
            pdf.add_font("cjk", "B", cjk)  # it has no bold face; the main font needs one
            families.insert(0, "cjk")
        else:
            families.append("cjk")  # parsing a CJK font is slow: once is enough
    pdf.set_font(families[0], size=10)
    pdf.set_fallback_fonts(families[1:], exact_match=False)


class _ReceiptPDF(FPDF):
    def __init__(self, receipt: Receipt):
        super().__init__(format="A4")
        self.receipt = receipt
        self.rtl = receipt.direction == "rtl"
        self.start, self.end = ("R", "L") if self.rtl else ("L", "R")

    def row(self, label: str, value: str) -> None:
        """A label and its value on one line, the label at the line's start."""
        width = self.epw
        cells = [(label, width * 0.3, "B"), (value, width * 0.7, "")]
        for text, cell_width, style in (reversed(cells) if self.rtl else cells):
            self.set_font(style=style)
            self.cell(cell_width, 7, text, align=self.start)
        self.set_font(style="")
        self.ln(7)

    def columns(self, cells: list[str]) -> list[str]:
        return list(reversed(cells)) if self.rtl else cells

    def table_of(self, header: list[str], rows: list[list[str]], widths: list[int],
                 amounts_from: int, bold_last: bool = False) -> None:
        """A table whose columns from ``amounts_from`` on are numbers (aligned at the
        end), mirrored in a right-to-left locale."""
        align = [self.start if i < amounts_from else self.end for i in range(len(header))]
        with self.table(col_widths=tuple(self.columns(widths)),
                        text_align=tuple(self.columns(align)),
                        headings_style=FontFace(emphasis="BOLD"),
                        borders_layout="HORIZONTAL_LINES", line_height=7,
                        first_row_as_headings=True) as table:
            for i, cells in enumerate([header, *rows]):
                style = FontFace(emphasis="BOLD") if bold_last and i == len(rows) else None
                table.row(self.columns(cells), style=style)
        self.ln(4)


def receipt_pdf(receipt: Receipt) -> bytes:
    """``receipt`` as the bytes of a PDF document."""
    labels = receipt.labels
    pdf = _ReceiptPDF(receipt)
    pdf.set_title(labels["heading"])
    pdf.set_lang(receipt.locale.replace("_", "-"))
    pdf.set_creator("Buyflow")
    pdf.set_margins(18, 18, 18)
    _set_up_fonts(pdf, receipt.locale)
    pdf.set_text_shaping(True)  # each text's direction from its own characters (bidi)
    pdf.add_page()

    pdf.set_font(style="B", size=18)
    pdf.cell(pdf.epw, 12, labels["title"], align=pdf.start)
    pdf.ln(14)
    pdf.set_font(style="", size=10)
    pdf.row(labels["shop"], receipt.seller_name)
    pdf.row(labels["order"], receipt.order_id)
    pdf.row(labels["paid_on"], receipt.paid_on)
    pdf.row(labels["email"], receipt.buyer_email)
    pdf.ln(4)

    pdf.table_of(
        [labels["items"], labels["quantity"], labels["unit_price"], labels["amount"]],
        [[line.name, line.quantity, line.unit_price, line.amount] for line in receipt.lines]
        + [[labels["total"], "", "", receipt.total]],
        widths=[46, 14, 20, 20], amounts_from=1, bold_last=True)

    if receipt.cards:
        pdf.row(labels["paid_with"], ", ".join(receipt.cards))
        pdf.ln(4)
    if receipt.refunds:
        pdf.table_of([labels["refunds"], labels["amount"]],
                     [[refund.date, refund.amount] for refund in receipt.refunds]
                     + [[labels["net_amount"], receipt.net_amount]],
                     widths=[70, 30], amounts_from=1, bold_last=True)
    return bytes(pdf.output())
