"""The account pages and the receipt as a buyer sees them: in English, Arabic and
Japanese, 360 and 1280 px wide, light and dark. Every variant is checked for horizontal
overflow and by axe (Japanese at 360 px only), and photographed for the gallery
(``screenshots/gallery/account-<page>-<locale>-<width>-<scheme>.png``)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from buyflow.buyers.identity import buyer_for_email
from buyflow.extensions import db
from buyflow.models import BuyerEmail, Card, Order, OrderItem, Payment, Product, Seller
from buyflow.models._base import utcnow
from buyflow.receipts.numbers import issue_receipt
from tests.conftest import make_refund

pytestmark = pytest.mark.e2e

LOCALES = ("en", "ar", "ja")
WIDTHS = (360, 1280)
SCHEMES = ("light", "dark")
EMAIL = "ann@example.com"


def _order(seller, key: str, lines, paid_days_ago: float | None, status: str = "paid"):
    """An order of ``lines`` (name, quantity, unit amount), paid that many days ago."""
    paid_at = utcnow() - timedelta(days=paid_days_ago) if paid_days_ago is not None else None
    order = Order(seller=seller, buyer=buyer_for_email(EMAIL), buyer_email=EMAIL,
                  checkout_key=key, status=status, currency="EUR", locale="en",
                  amount=sum(quantity * unit for _, quantity, unit in lines),
                  created_at=paid_at or utcnow(), paid_at=paid_at)
    order.items = [OrderItem(name=name, quantity=quantity, unit_amount=unit,
                             amount=quantity * unit) for name, quantity, unit in lines]
    db.session.add(order)
    return order


def _paid_by(order, status="succeeded", **fields) -> Payment:
    payment = Payment(order=order, amount=order.amount, currency=order.currency,
                      status=status, created_at=order.created_at,
                      **{"provider": "stripe", "method": "card", **fields})
    db.session.add(payment)
    return payment


def seed_anns_account(app) -> SimpleNamespace:
    """Ann's purchases from the demo seller (card, refunded in part, bank transfer), a
    declined attempt, two saved cards and a second email: the public ids."""
    with app.app_context():
        seller = db.session.scalar(db.select(Seller).filter_by(public_id="sel_demo"))
        coffee = db.session.scalar(db.select(Product).filter_by(public_id="prod_demo_coffee"))
        buyer = buyer_for_email(EMAIL)
        db.session.add_all([
            BuyerEmail(buyer=buyer, email="ann.work@example.com", verified_at=utcnow()),
            Card(buyer=buyer, provider="stripe", provider_method_ref="pm_gallery_visa",
                 brand="visa", last4="4242", exp_month=12, exp_year=2034, is_default=True),
            Card(buyer=buyer, provider="stripe", provider_method_ref="pm_gallery_mc",
                 brand="mastercard", last4="4444", exp_month=3, exp_year=2031),
        ])
        # Oldest first: the purchases page lists them newest first by row.
        transfer = _order(seller, "gallery-transfer", [("Espresso beans, 1 kg", 1, 3200)], 30)
        _paid_by(transfer, provider="offline", method="bank_transfer", reference="TRF-2026-118")
        refunded = _order(seller, "gallery-refunded", [(coffee.name, 1, 1450)], 9,
                          status="partially_refunded")
        refunded_payment = _paid_by(refunded, card_brand="mastercard", card_last4="4444")
        by_card = _order(seller, "gallery-card", [(coffee.name, 2, 1450),
                                                  ("Kenya AA, 250 g", 1, 1600)], 2)
        _paid_by(by_card, card_brand="visa", card_last4="4242")
        declined = _order(seller, "gallery-declined", [(coffee.name, 1, 1450)], None,
                          status="pending")
        _paid_by(declined, status="failed", card_brand="visa", card_last4="0341")
        db.session.flush()
        for order in (by_card, refunded, transfer):
            issue_receipt(order)
        db.session.commit()
        make_refund(refunded_payment, 500, "succeeded", created_at=utcnow() - timedelta(days=8))
        ids = SimpleNamespace(card=by_card.public_id, refunded=refunded.public_id,
                              transfer=transfer.public_id, declined=declined.public_id)
        db.session.remove()
    return ids


def pages_of(service_url: str, ids, width: int) -> dict[str, str]:
    """The signed-in pages to check at ``width``: the settings' own pages only at the
    narrowest, where layouts break first (the suite stays fast)."""
    pages = {
        "purchases": f"{service_url}/account/",
        "order": f"{service_url}/account/orders/{ids.refunded}",
        "receipt": f"{service_url}/account/orders/{ids.card}/receipt",
        "settings": f"{service_url}/account/settings",
    }
    if width == min(WIDTHS):
        pages.update({
            "cards": f"{service_url}/account/cards",
            "emails": f"{service_url}/account/emails",
            "credit": f"{service_url}/account/credits",
            "delete": f"{service_url}/account/delete",
        })
    return pages


def overflow(page) -> list[str]:
    """What is wider than it may be: the page than its viewport (a horizontal scroll), a
    box of the page than the box that clips or scrolls it (a table cut off)."""
    return page.evaluate("""() => {
        const found = [];
        const page = document.documentElement.scrollWidth - window.innerWidth;
        if (page > 0) found.push(`the page by ${page}px`);
        for (const box of document.querySelectorAll("main *")) {
            const wider = box.scrollWidth - box.clientWidth;
            // (visually hidden text is a 1px box clipping its text on purpose)
            if (wider > 1 && box.clientWidth > 1 && getComputedStyle(box).overflowX !== "visible")
                found.push(`${box.tagName.toLowerCase()}.${box.className} by ${wider}px`);
        }
        return found;
    }""")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_account_page_in_every_variant(app, page, browser, shop_url, service_url,
                                             browser_sign_in, axe, screenshots_dir, locale):
    """Signed in once; each width and scheme is a browser context with that session."""
    ids = seed_anns_account(app)
    browser_sign_in(EMAIL)
    signed_in = page.context.storage_state()
    gallery = screenshots_dir / "gallery"
    gallery.mkdir(exist_ok=True)
    problems = []
    for width in WIDTHS:
        for scheme in SCHEMES:
            variant = f"{locale}-{width}-{scheme}"
            # axe takes most of the time: Japanese, laid out as English is, only where
            # its longer words wrap first.
            audited = locale != "ja" or width == min(WIDTHS)
            for signed, pages in ((False, {"sign-in": f"{service_url}/account/sign-in"}),
                                  (True, pages_of(service_url, ids, width))):
                context = browser.new_context(
                    viewport={"width": width, "height": 900}, color_scheme=scheme,
                    storage_state=signed_in if signed else None)
                try:
                    tab = context.new_page()
                    for name, url in pages.items():
                        tab.goto(f"{url}?locale={locale}")
                        expect(tab.locator("h1")).to_be_visible()
                        if wider := overflow(tab):
                            problems.append(f"{name} {variant}: too wide: {wider}")
                        if audited and (found := axe(tab)):
                            problems.append(f"{name} {variant}: {found}")
                        tab.screenshot(path=gallery / f"account-{name}-{variant}.png",
                                       full_page=True)
                finally:
                    context.close()
    assert problems == []


def test_a_purchase_row_is_one_link_and_the_pages_mirror_in_arabic(app, page, shop_url,
                                                                  service_url,
                                                                  browser_sign_in):
    ids = seed_anns_account(app)
    browser_sign_in(EMAIL)
    rows = page.locator("main tbody tr")
    expect(rows).to_have_count(3)  # the declined attempt is no purchase
    expect(page.locator("main")).not_to_contain_text(ids.declined)
    for row in rows.all():
        expect(row.locator("a, button, input, [tabindex]")).to_have_count(1)
        expect(row.locator("time")).to_contain_text("UTC")

    # The keyboard: one tab stop per row, in the rows' order, Enter opens the order.
    page.locator("h1").click()
    reached = []
    for _ in range(3):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => document.activeElement.textContent.trim()"))
    assert reached == [ids.card, ids.refunded, ids.transfer]
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{service_url}/account/orders/{ids.transfer}")

    # The pointer: anywhere on the row, here on its shop's name, opens the order (the
    # link covers the row: a click there is the link's).
    page.go_back()
    shop = page.locator("main tbody tr").nth(1).locator("td.shop").bounding_box()
    page.mouse.click(shop["x"] + shop["width"] / 2, shop["y"] + shop["height"] / 2)
    expect(page).to_have_url(f"{service_url}/account/orders/{ids.refunded}")

    page.goto(f"{service_url}/account/?locale=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    width = page.viewport_size["width"]
    brand = page.locator(".brand").bounding_box()
    assert brand["x"] > width / 2  # the brand at the start: on the right
    order_column = page.locator("main thead th").first.bounding_box()
    amount_column = page.locator("main thead th").last.bounding_box()
    assert order_column["x"] > amount_column["x"]  # the first column on the right
