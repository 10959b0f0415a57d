"""The buy flow in every buyer's language and for every buyer: axe-core on the error page
and the management pages, switching language, a purchase with the keyboard alone.
(Every step of the flow in en, ar and ja, light and dark, with axe, the right-to-left
layout and the screenshot gallery: test_flow_design.py.)"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import FLOW_FRAME, fill_card, open_flow

pytestmark = pytest.mark.e2e

THANKS = re.compile(r"Thank you — order (ord_\S+) verified")
FLOW_IFRAME = FLOW_FRAME


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_error_page_has_no_axe_violations(page, shop_url, axe, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(shop_url)
    page.evaluate("() => Buyflow.open({seller: 'sel_demo', product: 'nope'}).catch(() => {})")
    frame = page.locator(FLOW_IFRAME).element_handle().content_frame()
    expect(frame.get_by_role("alert")).to_have_text("This product is not available.")
    assert axe(frame) == []


@pytest.mark.parametrize("path", ["/"])
def test_management_pages_have_no_axe_violations(page, service_url, axe, path):
    page.goto(service_url + path)
    assert axe(page) == []


def test_the_buyer_switches_language_inside_the_flow_and_pays(page, shop_url):
    frame = open_flow(page, shop_url, locale="en")
    frame.locator("#email").fill("ann@example.com")
    expect(frame.get_by_label("Language")).to_have_value("en")
    frame.get_by_label("Language").select_option("ja")  # applies at once: no button

    expect(frame.locator("html")).to_have_attribute("lang", "ja")
    expect(frame.locator("#pay")).to_have_text("€14.50を支払う")
    expect(frame.locator("#email")).to_have_value("ann@example.com")  # nothing lost
    expect(frame.get_by_label("言語")).to_be_focused()  # the keyboard goes on from there
    fill_card(frame, "4242424242424242")
    frame.locator("#pay").click()
    expect(frame.get_by_label("言語")).to_be_hidden()  # no switching once paying
    expect(frame.get_by_role("heading", name="ありがとうございました！")).to_be_visible(
        timeout=20_000)


def focused(frame) -> str:
    """The focused element of the flow, as 'tag#id' or 'tag[name]'."""
    return frame.evaluate("""() => { const e = document.activeElement;
        return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '[' + e.name + ']'); }""")


def test_a_purchase_with_the_keyboard_alone(page, shop_url):
    page.goto(shop_url)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Buy")).to_be_focused()
    page.keyboard.press("Enter")
    frame = page.locator(FLOW_IFRAME).element_handle().content_frame()
    expect(frame.locator('input[name="postal_code"]')).to_be_visible()

    seen = []
    for _ in range(12):  # into the flow, in order
        page.keyboard.press("Tab")
        if frame.evaluate("() => document.hasFocus() && document.activeElement !== document.body"):
            seen.append(focused(frame))
            # Focus is visible: our outline on every control we style.
            outline = frame.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", seen[-1]
            if seen[-1] == "input#email":
                break
    assert seen == ["button#close", "input#email"]

    page.keyboard.type("ann@example.com")
    page.keyboard.press("Tab")  # the saved cards' button comes next, then the card
    assert focused(frame) == "button#saved-cards"
    for field, value in zip(("number", "exp_month", "exp_year", "cvc", "postal_code"),
                            ("4242424242424242", "12", "34", "123", "75001")):
        if focused(frame) != f"input[{field}]":  # localstripe moves on by itself when full
            page.keyboard.press("Tab")
        assert focused(frame) == f"input[{field}]"
        page.keyboard.type(value)
    if focused(frame) != "button#pay":
        page.keyboard.press("Tab")
    assert focused(frame) == "button#pay"
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)

    expect(frame.locator("#done")).to_be_focused()
    page.keyboard.press("Tab")
    assert focused(frame) == "button#done-button"
    # Enter activates Done on its way down and the page removes the flow's frame; the key
    # goes up only after that, in the page (Chromium's input routing never answers a key
    # sent to a cross-site frame removed between its down and up).
    page.keyboard.down("Enter")
    expect(page.locator(FLOW_IFRAME)).to_have_count(0)
    page.keyboard.up("Enter")
