"""A buyer's receipts: the page (printable) and the PDF download of a paid order."""

from __future__ import annotations

from flask import Response, abort, render_template
from flask_babel import get_locale

from buyflow.extensions import db
from buyflow.models import Order
from buyflow.receipts.content import build_receipt, has_receipt
from buyflow.receipts.mail import receipt_file_name
from buyflow.sellers.brand import logo_url

from ..auth.sessions import buyer_required
from . import _buyers_orders, bp

bp.app_template_global("has_receipt")(has_receipt)


def _receipted_order(order_id: str) -> Order:
    """The signed-in buyer's order ``order_id`` if it has a receipt; else 404, whether the
    order is someone else's, unknown or not paid."""
    order = db.session.scalar(_buyers_orders().filter_by(public_id=order_id))
    if order is None or not has_receipt(order):
        abort(404)
    return order


@bp.get("/orders/<order_id>/receipt")
@buyer_required
def receipt(order_id: str):
    """The receipt of one of the buyer's paid orders, printable, with the seller's logo."""
    order = _receipted_order(order_id)
    return render_template("account/receipt.html", order=order, paid_at=order.paid_at,
                           receipt=build_receipt(order, str(get_locale())),
                           logo=logo_url(order.seller))


@bp.get("/orders/<order_id>/receipt.pdf")
@buyer_required
def receipt_download(order_id: str):
    """The receipt of one of the buyer's paid orders as a PDF file."""
    # fpdf2 and HarfBuzz only when a PDF is made: web workers serving pages never load them.
    from buyflow.receipts.pdf import receipt_pdf

    order = _receipted_order(order_id)
    return Response(receipt_pdf(build_receipt(order, str(get_locale()))),
                    mimetype="application/pdf", headers={
                        "Content-Disposition":
                            f'attachment; filename="{receipt_file_name(order)}"',
                        "Cache-Control": "private, no-store"})
