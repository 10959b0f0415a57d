"""A buyer adds another email, verifies it with the code from their mailbox, finds what
they bought with it, and makes it their primary email."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_purchase import THANKS
from tests.management.conftest import code_in

pytestmark = pytest.mark.e2e

WORK = "ann.work@example.com"


def sign_in(page, service_url, mailbox, email):
    page.goto(f"{service_url}/account/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Code").fill(code_in(mailbox.last_to(email)))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Purchases")).to_be_visible()


def test_add_verify_and_make_primary_an_email(page, shop_url, service_url, checkout, mailbox,
                                              axe):
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    checkout.fill("4242424242424242", email=WORK)
    checkout.frame.locator("#pay").click()
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)
    order_id = THANKS.search(page.locator("#status").text_content()).group(1)

    sign_in(page, service_url, mailbox, "ann@example.com")
    expect(page.get_by_text(order_id)).to_have_count(0)

    page.goto(f"{service_url}/account/emails")
    expect(page.get_by_role("heading", name="Your emails")).to_be_visible()
    assert axe(page) == []
    page.get_by_label("Email to add").fill(WORK)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Verify your email")).to_be_visible()
    assert axe(page) == []

    page.get_by_label("Code").fill("000000" if code_in(mailbox.last_to(WORK)) != "000000"
                                    else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("This code is not right")
    assert axe(page) == []
    page.get_by_label("Code").fill(code_in(mailbox.last_to(WORK)))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_contain_text(f"{WORK} is verified")
    row = page.get_by_role("row").filter(has_text=WORK)
    expect(row).to_contain_text("Verified")
    assert axe(page) == []

    page.goto(f"{service_url}/account/")
    row_of_order = page.get_by_role("row").filter(has_text="Ethiopia Yirgacheffe")
    expect(row_of_order).to_contain_text("€14.50")
    row_of_order.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Order {order_id}")).to_be_visible()

    page.goto(f"{service_url}/account/emails")
    page.get_by_role("row").filter(has_text=WORK).get_by_role(
        "button", name="Make primary").click()
    expect(page.get_by_role("status")).to_contain_text(f"{WORK} is now your primary email")
    expect(page.get_by_role("row").filter(has_text=WORK)).to_contain_text("Primary")
    expect(page.get_by_role("row").filter(has_text="ann@example.com")).to_contain_text("Verified")
    assert axe(page) == []
