"""A receipt as a PDF (fpdf2), in any of the shipped locales.

fpdf2's core fonts are Latin-1 only, so the text is set in Unicode TrueType fonts: DejaVu
Sans, bundled here (Latin, Greek, Cyrillic, Arabic, Hebrew), and a CJK font from the
system (``RECEIPT_CJK_FONT``, Debian's WenQuanYi Micro Hei by default) for Chinese,
Japanese and Korean. Each is the other's fallback, so a product name in another script
than the locale's still shows. Text shaping (HarfBuzz, through uharfbuzz) joins Arabic
letters and orders right-to-left text; in a right-to-left locale the layout is mirrored.

The tables are drawn cell by cell on one grid (``_Table``): every rule of a table spans
the same width and every number column ends at the same place, row after row.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from fpdf import FPDF

from .content import Receipt

log = logging.getLogger(__name__)

FONTS = Path(__file__).parent / "fonts"
CJK_LANGUAGES = ("ja", "ko", "zh")

INK = (31, 31, 31)
MUTED = (84, 84, 84)  # 7.5:1 on white
RULE = (218, 220, 224)
STRONG_RULE = (95, 99, 104)
LOGO_HEIGHT = 14  # mm
LINE = 6  # mm, the height of a line of body text


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


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


@dataclass(frozen=True)
class _Table:
    """Columns as fractions of the text width; those from ``numbers_from`` on hold
    numbers, aligned at the line's end."""

    fractions: tuple[float, ...]
    numbers_from: int


ITEMS = _Table((0.49, 0.13, 0.19, 0.19), numbers_from=1)
TWO_COLUMNS = _Table((0.62, 0.38), numbers_from=1)


class _ReceiptPDF(FPDF):
    def __init__(self, receipt: Receipt):
        super().__init__(format="A4")
        self.receipt = receipt
        self.rtl = receipt.direction == "rtl"
        self.start, self.end = ("R", "L") if self.rtl else ("L", "R")

    def at_start(self, offset: float, width: float) -> float:
        """The x of a box ``width`` wide, ``offset`` from the line's start (mirrored in a
        right-to-left locale)."""
        if self.rtl:
            return self.l_margin + self.epw - offset - width
        return self.l_margin + offset

    def text_line(self, text: str, size: float = 10, style: str = "",
                  colour=INK, align: str | None = None, height: float = LINE) -> None:
        """One line (wrapped when long) across the text width."""
        self.set_font(style=style, size=size)
        self.set_text_color(*colour)
        self.set_x(self.l_margin)
        self.multi_cell(self.epw, height, text, align=align or self.start,
                        new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)

    def rule(self, colour=RULE, width: float = 0.2) -> None:
        self.set_draw_color(*colour)
        self.set_line_width(width)
        self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())

    def header_block(self) -> None:
        """The seller's logo at the start, the title and the receipt number at the end."""
        receipt = self.receipt
        top = self.get_y()
        if receipt.accent:
            self.set_fill_color(*_hex_rgb(receipt.accent))
            self.rect(self.l_margin, top - 6, self.epw, 1.2, style="F")
        if receipt.logo:
            self._logo(receipt.logo, top)
        self.set_font(style="B", size=20)
        self.set_xy(self.l_margin, top)
        self.cell(self.epw, 9, receipt.labels["title"], align=self.end)
        self.set_font(style="", size=10)
        self.set_text_color(*MUTED)
        self.set_xy(self.l_margin, top + 10)
        self.cell(self.epw, 5, f"{receipt.labels['number']} {receipt.number}", align=self.end)
        self.set_text_color(*INK)
        self.set_y(top + max(LOGO_HEIGHT if receipt.logo else 0, 16) + 6)

    def _logo(self, image: bytes, top: float) -> None:
        from PIL import Image

        try:
            with Image.open(io.BytesIO(image)) as picture:
                width = LOGO_HEIGHT * picture.width / picture.height
            self.image(io.BytesIO(image), x=self.at_start(0, width), y=top, h=LOGO_HEIGHT)
        except Exception:  # a logo fpdf cannot read must not cost the buyer the receipt
            log.warning("seller %s: the logo cannot be put in the PDF receipt",
                        self.receipt.seller_name, exc_info=True)

    def seller_block(self) -> None:
        receipt = self.receipt
        self.text_line(receipt.seller_name, size=12, style="B")
        for line in receipt.seller_address:
            self.text_line(line, size=9.5, colour=MUTED, height=5)
        if receipt.support_email:
            self.text_line(receipt.support_email, size=9.5, colour=MUTED, height=5)
        self.ln(6)

    def facts(self, rows: list[tuple[str, str]]) -> None:
        """Labels and their values, the labels in a column at the start."""
        label_width = self.epw * 0.3
        for label, value in rows:
            y = self.get_y()
            self.set_font(style="", size=9.5)
            self.set_text_color(*MUTED)
            self.set_xy(self.at_start(0, label_width), y)
            self.multi_cell(label_width, LINE, label, align=self.start)
            label_bottom = self.get_y()
            self.set_text_color(*INK)
            self.set_font(size=10)
            self.set_xy(self.at_start(label_width, self.epw - label_width), y)
            self.multi_cell(self.epw - label_width, LINE, value, align=self.start)
            self.set_y(max(label_bottom, self.get_y()))
        self.ln(5)

    def table(self, grid: _Table, header: list[str], rows: list[list[str]],
              total: list[str] | None = None) -> None:
        """``header``, then ``rows`` each over a hairline, then the bold ``total`` row
        over a strong rule; the header sits on a strong rule too."""
        self._row(grid, header, size=9, style="B", colour=MUTED)
        self.rule(STRONG_RULE, 0.3)
        for cells in rows:
            self._row(grid, cells)
            self.rule()
        if total is not None:
            self.rule(STRONG_RULE, 0.3)
            self._row(grid, total, style="B")
        self.ln(6)

    def _row(self, grid: _Table, cells: list[str], size: float = 10, style: str = "",
             colour=INK) -> None:
        """One row of ``grid``, as tall as its tallest cell (long names wrap)."""
        padding = 1.6
        widths = [self.epw * fraction for fraction in grid.fractions]
        self.set_font(style=style, size=size)
        self.set_text_color(*colour)
        top = self.get_y() + padding
        bottom = top
        offset = 0.0
        for i, (text, width) in enumerate(zip(cells, widths)):
            align = self.end if i >= grid.numbers_from else self.start
            # A little room between columns: the number columns keep theirs at the start.
            inner = width - 2
            x = self.at_start(offset + (2 if i >= grid.numbers_from else 0), inner)
            self.set_xy(x, top)
            self.multi_cell(inner, LINE - 0.5, text, align=align)
            bottom = max(bottom, self.get_y())
            offset += width
        self.set_text_color(*INK)
        self.set_y(bottom + padding)

    def closing(self) -> None:
        labels = self.receipt.labels
        if labels["questions"]:
            self.text_line(labels["questions"], size=9.5)
        self.text_line(labels["processed_by"], size=8.5, colour=MUTED)


def receipt_pdf(receipt: Receipt) -> bytes:
    """``receipt`` as the bytes of a PDF document."""
    labels = receipt.labels
    pdf = _ReceiptPDF(receipt)
    pdf.set_title(labels["heading"])
    pdf.set_lang(receipt.locale.replace("_", "-"))
    pdf.set_creator("Buyflow")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    _set_up_fonts(pdf, receipt.locale)
    pdf.set_text_shaping(True)  # each text's direction from its own characters (bidi)
    pdf.add_page()

    pdf.header_block()
    pdf.seller_block()
    pdf.facts([
        (labels["order"], receipt.order_id),
        (labels["paid_on"], receipt.paid_on),
        (labels["email"], receipt.buyer_email),
    ])
    pdf.table(ITEMS,
              [labels["items"], labels["quantity"], labels["unit_price"], labels["amount"]],
              [[line.name, line.quantity, line.unit_price, line.amount]
               for line in receipt.lines],
              total=[labels["total"], "", "", receipt.total])
    if receipt.payments:
        pdf.table(TWO_COLUMNS, [labels["paid_with"], labels["amount"]],
                  [[payment.method, payment.amount] for payment in receipt.payments])
    if receipt.refunds:
        pdf.table(TWO_COLUMNS, [labels["refunds"], labels["amount"]],
                  [[refund.date, refund.amount] for refund in receipt.refunds],
                  total=[labels["net_amount"], receipt.net_amount])
    pdf.closing()
    return bytes(pdf.output())
