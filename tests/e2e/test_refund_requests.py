"""A buyer asks for a refund, withdraws the request, asks again, reads the shop's decline
and asks once more: with the keyboard only, every page axe-clean."""

import pytest
from playwright.sync_api import expect

from buyflow.extensions import db
from buyflow.models import RefundRequest
from buyflow.models.audit import Actor
from buyflow.refund_requests import decline
from tests.e2e.test_purchase import THANKS, open_and_pay

pytestmark = pytest.mark.e2e


def press_on(page, locator, key: str | None = "Enter") -> None:
    """Tab from the top of the page until ``locator`` has the focus, then press ``key``
    (if any): what a keyboard user does."""
    page.locator("body").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            if key:
                page.keyboard.press(key)
            return
    raise AssertionError(f"{locator} cannot be reached with Tab")


def declined_by_the_shop(app, reason: str) -> None:
    with app.app_context():
        request = db.session.scalar(db.select(RefundRequest).filter_by(status="open"))
        decline(request, reason, Actor.api_key(request.order.seller.api_keys[0]))
        db.session.commit()
        db.session.remove()


def test_ask_withdraw_and_ask_again_after_a_decline(app, page, shop_url, service_url,
                                                    checkout, browser_sign_in, axe):
    open_and_pay(page, shop_url, checkout, "4242424242424242")
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)
    order_id = THANKS.search(page.locator("#status").text_content()).group(1)
    browser_sign_in()
    page.goto(f"{service_url}/account/orders/{order_id}")

    # Ask, wanting credit with the shop: the reason typed, the choice made with arrows.
    press_on(page, page.get_by_label("Why do you want a refund?"), None)
    page.keyboard.type("The bag arrived torn.")
    press_on(page, page.get_by_label("Back to how you paid"), "ArrowDown")
    expect(page.get_by_label("As credit to spend at this shop")).to_be_checked()
    assert axe(page) == []
    page.keyboard.press("Enter")  # submits the form the focused radio belongs to
    expect(page.get_by_text("You asked the shop for a refund")).to_be_visible()
    history = page.get_by_role("table", name="Your refund requests")
    expect(history).to_contain_text("As credit to spend at this shop")
    expect(history).to_contain_text("Waiting for the shop")
    assert axe(page) == []

    # Withdraw, after confirming.
    press_on(page, page.get_by_role("link", name="Withdraw the request"))
    expect(page.get_by_role("heading", name="Withdraw your refund request?")).to_be_visible()
    assert axe(page) == []
    press_on(page, page.get_by_role("button", name="Withdraw the request"))
    expect(page.get_by_role("status")).to_have_text("You withdrew your refund request.")
    expect(history).to_contain_text("Withdrawn")
    assert axe(page) == []

    # Ask again; the shop declines; the buyer reads why and asks once more.
    page.get_by_label("Why do you want a refund?").fill("Torn on arrival, photos attached.")
    press_on(page, page.get_by_role("button", name="Send the request to the shop"))
    expect(page.get_by_role("link", name="Withdraw the request")).to_be_visible()
    declined_by_the_shop(app, "The photos show the bag was opened with scissors.")
    page.reload()
    expect(page.get_by_role("heading", name="Ask for a refund again")).to_be_visible()
    expect(page.get_by_text("The shop declined your last request on")).to_be_visible()
    expect(history).to_contain_text("Declined by the shop")
    assert axe(page) == []
    page.get_by_label("Why do you want a refund?").fill("It was torn before I opened it.")
    press_on(page, page.get_by_role("button", name="Send the request to the shop"))
    expect(history.get_by_role("row")).to_have_count(4)  # the header and three requests
    assert axe(page) == []
