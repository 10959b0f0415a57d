"""A buyer signs in with the code from their email and finds what they bought."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_purchase import THANKS, open_and_pay
from tests.management.conftest import code_in

pytestmark = pytest.mark.e2e


def test_sign_in_with_the_emailed_code_and_see_the_purchase(page, shop_url, service_url,
                                                            checkout, mailbox, axe):
    open_and_pay(page, shop_url, checkout, "4242424242424242")
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)
    order_id = THANKS.search(page.locator("#status").text_content()).group(1)

    page.goto(f"{service_url}/account/")  # not signed in: sent to sign in first
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert axe(page) == []
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert axe(page) == []

    page.get_by_label("Code").fill("000000" if code_in(mailbox.last_to("ann@example.com"))
                                    != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("This code is not right")
    assert axe(page) == []

    page.get_by_label("Code").fill(code_in(mailbox.last_to("ann@example.com")))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Purchases")).to_be_visible()
    assert axe(page) == []
    row = page.get_by_role("row").filter(has_text="Ethiopia Yirgacheffe")
    expect(row).to_contain_text("€14.50")
    expect(row).to_contain_text("Paid")

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Order {order_id}")).to_be_visible()
    expect(page.get_by_text(re.compile("Visa ending in 4242"))).to_be_visible()
    assert axe(page) == []

    page.get_by_label("Why do you want a refund?").fill("The bag arrived torn.")
    page.get_by_role("button", name="Send the request to the shop").click()
    expect(page.get_by_text("You asked the shop for a refund")).to_be_visible()
    assert axe(page) == []

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{service_url}/account/orders/{order_id}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
