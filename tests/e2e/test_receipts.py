"""A buyer opens the receipt of a purchase made through the iframe and downloads its PDF."""

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.test_purchase import THANKS, open_and_pay
from tests.management.conftest import code_in

pytestmark = pytest.mark.e2e


def test_open_and_download_the_receipt(page, shop_url, service_url, checkout, mailbox, axe,
                                       tmp_path):
    open_and_pay(page, shop_url, checkout, "4242424242424242")
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)
    order_id = THANKS.search(page.locator("#status").text_content()).group(1)

    page.goto(f"{service_url}/account/")
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Code").fill(code_in(mailbox.last_to("ann@example.com")))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("row").filter(has_text="Ethiopia Yirgacheffe").get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Order {order_id}")).to_be_visible()

    page.get_by_role("link", name="See the receipt").click()
    expect(page.get_by_role("heading", name="Receipt from Northwind Coffee")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Ethiopia Yirgacheffe")).to_contain_text("€14.50")
    receipt = page.locator("article")
    expect(receipt).to_contain_text("Visa ending in 4242")
    expect(receipt).to_contain_text(re.compile(r"Receipt number\s*\d{4}-\d{6}"))
    expect(receipt).to_contain_text("Kaffeestraße 12")  # the demo seller's address
    expect(receipt.get_by_role("link", name="hello@northwind.example")).to_be_visible()
    expect(receipt.locator("time").first).to_contain_text("UTC")
    expect(receipt.get_by_role("img")).to_have_count(0)  # the logo is decoration: alt=""
    assert receipt.locator("img").evaluate("img => img.complete && img.naturalWidth") > 0
    assert axe(page) == []

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the receipt (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"receipt-{order_id}.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert order_id in PdfReader(io.BytesIO(data)).pages[0].extract_text()

    page.goto(f"{service_url}/account/orders/{order_id}/receipt?locale=ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert axe(page) == []
