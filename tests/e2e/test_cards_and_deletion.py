"""A buyer manages saved cards on the account pages and deletes the account."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import fill_card
from tests.e2e.test_purchase import THANKS, open_and_pay

pytestmark = pytest.mark.e2e


def test_add_make_default_and_remove_cards_then_delete_the_account(
        page, shop_url, service_url, checkout, browser_sign_in, axe):
    open_and_pay(page, shop_url, checkout, "4242424242424242")
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)
    browser_sign_in()

    account_menu = page.get_by_role("navigation", name="Account")
    account_menu.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    page.get_by_role("link", name="Manage cards").click()
    expect(page.get_by_text("You have no saved cards.")).to_be_visible()
    assert axe(page) == []
    for number in ("4242424242424242", "5555555555554444"):
        page.get_by_role("link", name="Add a card").click()
        expect(page.get_by_role("heading", name="Add a card")).to_be_visible()
        assert axe(page) == []
        fill_card(page, number)
        page.get_by_role("button", name="Save card").click()
        expect(page.get_by_role("status")).to_have_text("Card added.")
    assert axe(page) == []
    visa = page.get_by_role("row").filter(has_text="Visa ending in 4242")
    other = page.get_by_role("row").filter(has_text="ending in 4444")
    expect(visa).to_contain_text("Default")
    expect(other).not_to_contain_text("Default")

    other.get_by_role("button", name="Make default").click()
    expect(page.get_by_role("status")).to_contain_text("is now your default card")
    expect(page.get_by_role("row").filter(has_text="ending in 4444")).to_contain_text(
        "Default")

    page.get_by_role("row").filter(has_text="Visa ending in 4242").get_by_role(
        "link", name="Remove").click()
    expect(page.get_by_role("heading", name="Remove Visa ending in 4242?")).to_be_visible()
    assert axe(page) == []
    page.get_by_role("button", name="Remove card").click()
    expect(page.get_by_role("status")).to_have_text("Visa ending in 4242 was removed.")
    expect(page.get_by_role("row").filter(has_text="Visa ending in 4242")).to_have_count(0)

    account_menu.get_by_role("link", name="Settings").click()  # deleting is a setting
    page.get_by_role("link", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Delete my account")).to_be_visible()
    assert axe(page) == []
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_have_text("Please tick the box to confirm.")
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("status")).to_have_text("Your account was deleted.")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
