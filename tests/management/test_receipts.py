"""A buyer's receipt: the page and the PDF, for their own paid orders only."""

from buyflow.extensions import db
from buyflow.models import Order
from tests.receipts.test_pdf import pdf_text


def test_the_receipt_page_and_pdf_of_a_paid_order(client, shops, buy, signed_in):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    order_page = client.get(f"/account/orders/{order_id}").text
    assert f'href="/account/orders/{order_id}/receipt"' in order_page
    assert f'href="/account/orders/{order_id}/receipt.pdf"' in order_page

    page = client.get(f"/account/orders/{order_id}/receipt")
    assert page.status_code == 200
    for text in ("Receipt", "Northwind Coffee", order_id, "ann@example.com",
                 "Ethiopia Yirgacheffe", "€14.50", "Visa ending in 4242"):
        assert text in page.text

    pdf = client.get(f"/account/orders/{order_id}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="receipt-{order_id}.pdf"'
    text = pdf_text(pdf.data)
    assert order_id in text and "€14.50" in text


def test_the_receipt_in_the_pages_language(client, shops, buy, signed_in):
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    signed_in()
    page = client.get(f"/account/orders/{order_id}/receipt", headers={"Accept-Language": "ja"})
    assert 'lang="ja"' in page.text and "領収書" in page.text and "€14.50" in page.text
    pdf = client.get(f"/account/orders/{order_id}/receipt.pdf", headers={"Accept-Language": "ar"})
    assert "الإجمالي" in pdf_text(pdf.data)


def test_no_receipt_of_someone_elses_unpaid_or_unknown_order(client, shops, buy, signed_in,
                                                             in_app):
    theirs = buy(shops.northwind, shops.coffee, email="bob@example.com").json["order"]
    unpaid = buy(shops.northwind, shops.coffee, number="4000000000000341").json["order"]
    assert in_app(lambda: db.session.scalar(
        db.select(Order.status).filter_by(public_id=unpaid))) == "pending"
    signed_in()
    assert "/receipt" not in client.get(f"/account/orders/{unpaid}").text
    for order_id in (theirs, unpaid, "ord_nope"):
        assert client.get(f"/account/orders/{order_id}/receipt").status_code == 404
        assert client.get(f"/account/orders/{order_id}/receipt.pdf").status_code == 404


def test_receipts_need_a_signed_in_buyer(client, app):
    response = client.get("/account/orders/ord_x/receipt.pdf")
    assert response.status_code == 302 and "/account/sign-in" in response.location


def brand_northwind(in_app, shops):
    """Give the Northwind seller its address, support email and logo."""
    from buyflow.models import Seller
    from buyflow.sellers import brand
    from tests.receipts.conftest import DEMO_LOGO

    def set_brand():
        seller = db.session.scalar(db.select(Seller).filter_by(
            public_id=shops.northwind.public_id))
        brand.set_support_contact(seller, email="help@northwind.example",
                                  postal_address="Kaffeestraße 12\n10115 Berlin")
        brand.set_logo(seller, DEMO_LOGO.read_bytes())
        db.session.commit()
        return seller.logo_digest

    return in_app(set_brand)


def test_the_receipt_says_who_sold_it_its_number_how_and_when_it_was_paid(
        client, shops, buy, signed_in, in_app):
    from buyflow.models import Receipt

    digest = brand_northwind(in_app, shops)
    order_id = buy(shops.northwind, shops.coffee).json["order"]
    number = in_app(lambda: db.session.scalar(
        db.select(Receipt).join(Order).where(Order.public_id == order_id)).number)
    signed_in()
    page = client.get(f"/account/orders/{order_id}/receipt").text
    for text in ("Northwind Coffee", "Kaffeestraße 12", "10115 Berlin",
                 'href="mailto:help@northwind.example"', "Receipt number", number,
                 "Visa ending in 4242", " UTC</time>"):
        assert text in page, text
    assert f'src="/flow/brand/{shops.northwind.public_id}/logo/{digest}"' in page

    text = pdf_text(client.get(f"/account/orders/{order_id}/receipt.pdf").data)
    for words in ("Kaffeestraße 12", "help@northwind.example", number, "Visa ending in 4242",
                  "UTC"):
        assert words in text, words
