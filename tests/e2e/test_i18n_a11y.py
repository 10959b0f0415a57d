"""The buy flow in every buyer's language and for every buyer: axe-core at every step,
right-to-left layout, switching language, a purchase with the keyboard alone, and the
screenshots the README points to."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import FLOW_FRAME, fill_card

pytestmark = pytest.mark.e2e

THANKS = re.compile(r"Thank you — order (ord_\S+) verified")
FLOW_IFRAME = FLOW_FRAME


def open_flow(page, shop_url, **options):
    """Open the demo shop and its buy flow with Buyflow.open(options); return the flow's
    Frame once its form is shown."""
    page.goto(shop_url)
    page.wait_for_function("() => window.Buyflow")
    page.evaluate("""options => { Buyflow.open(Object.assign(
        { seller: 'sel_demo', product: 'prod_demo_coffee' }, options)).catch(() => {}); }""",
                  options)
    frame = page.locator(FLOW_IFRAME).element_handle().content_frame()
    expect(frame.locator("#pay")).to_be_visible()
    return frame


def test_every_step_of_the_flow_has_no_axe_violations(page, shop_url, axe):
    frame = open_flow(page, shop_url)
    assert axe(frame) == [], "the form"

    frame.locator("#email").fill("not-an-email")
    frame.locator("#pay").click()
    expect(frame.get_by_role("alert")).to_have_text("Please enter a valid email address.")
    expect(frame.locator("#email")).to_have_attribute("aria-invalid", "true")
    assert axe(frame) == [], "an invalid email"

    frame.locator("#email").fill("ann@example.com")
    fill_card(frame, "4000000000000341")
    frame.locator("#pay").click()
    expect(frame.get_by_role("alert")).to_have_text(
        "Your card was declined. Please try another card.", timeout=20_000)
    assert axe(frame) == [], "a declined card"

    frame.locator('input[placeholder="number"]').fill("4242424242424242")
    frame.locator("#pay").click()
    expect(frame.locator("#done")).to_be_focused(timeout=20_000)
    expect(frame.locator("#receipt")).to_have_text(re.compile(r"^€14\.50 paid on \w+ \d+, \d{4}\.$"))
    assert axe(frame) == [], "the confirmation"


@pytest.mark.parametrize("locale", ["ar", "ja"])
def test_the_flow_in_other_scripts_has_no_axe_violations(page, shop_url, axe, locale):
    frame = open_flow(page, shop_url, locale=locale)
    frame.locator("#pay").click()  # an empty email: the error state
    expect(frame.get_by_role("alert")).not_to_be_empty()
    assert axe(frame) == []


def test_the_error_page_has_no_axe_violations(page, shop_url, axe):
    page.goto(shop_url)
    page.evaluate("() => Buyflow.open({seller: 'sel_demo', product: 'nope'}).catch(() => {})")
    frame = page.locator(FLOW_IFRAME).element_handle().content_frame()
    expect(frame.get_by_role("alert")).to_have_text("This product is not available.")
    assert axe(frame) == []


@pytest.mark.parametrize("path", ["/"])
def test_management_pages_have_no_axe_violations(page, service_url, axe, path):
    page.goto(service_url + path)
    assert axe(page) == []


def box(locator) -> dict:
    return locator.evaluate("e => e.getBoundingClientRect().toJSON()")


@pytest.mark.parametrize("locale, direction", [("ar", "rtl"), ("he", "rtl"), ("en", "ltr")])
def test_right_to_left_languages_get_a_mirrored_layout(page, shop_url, locale, direction):
    frame = open_flow(page, shop_url, locale=locale)
    expect(frame.locator("html")).to_have_attribute("dir", direction)
    form, label = box(frame.locator("#pay-form")), box(frame.locator('label[for="email"]'))
    seller, change = box(frame.locator(".seller")), box(frame.locator("#change-language"))
    start, end = ("right", "left") if direction == "rtl" else ("left", "right")
    # Labels and the seller's name at the start edge (the right one in ar and he), the
    # language menu's button at the end edge.
    assert abs(label[start] - form[start]) < 1
    assert abs(seller[start] - form[start]) < 1
    assert abs(change[end] - form[end]) < 1
    assert abs(change[start] - form[start]) > 100
    assert frame.locator("#email-hint").evaluate("e => getComputedStyle(e).direction") == direction


@pytest.mark.parametrize("locale, pay_text", [("ar", "ادفع"), ("ja", "を支払う")])
def test_screenshots_of_the_flow(page, shop_url, screenshots_dir, locale, pay_text):
    page.set_viewport_size({"width": 800, "height": 900})
    frame = open_flow(page, shop_url, locale=locale)
    expect(frame.locator("#pay")).to_contain_text(pay_text)
    expect(frame.locator('input[placeholder="postal_code"]')).to_be_visible()
    frame.locator("#email").fill("ann@example.com")
    frame.evaluate("() => document.fonts.ready")
    page.wait_for_timeout(300)  # let the out-of-process iframe paint
    page.screenshot(path=screenshots_dir / f"flow-{locale}.png")
    assert (screenshots_dir / f"flow-{locale}.png").stat().st_size > 10_000


def test_the_buyer_switches_language_inside_the_flow_and_pays(page, shop_url):
    frame = open_flow(page, shop_url, locale="en")
    frame.locator("#email").fill("ann@example.com")
    expect(frame.get_by_label("Language")).to_have_value("en")
    frame.get_by_label("Language").select_option("ja")
    frame.get_by_role("button", name="Change language").click()

    expect(frame.locator("html")).to_have_attribute("lang", "ja")
    expect(frame.locator("#pay")).to_have_text("€14.50を支払う")
    expect(frame.locator("#email")).to_have_value("ann@example.com")  # nothing lost
    fill_card(frame, "4242424242424242")
    frame.locator("#pay").click()
    expect(frame.get_by_label("言語")).to_be_disabled()  # no switching once paying
    expect(frame.get_by_role("button", name="言語を変更")).to_be_disabled()
    expect(frame.get_by_role("heading", name="ありがとうございました！")).to_be_visible(
        timeout=20_000)


def focused(frame) -> str:
    """The focused element of the flow, as 'tag#id' or 'tag[placeholder]'."""
    return frame.evaluate("""() => { const e = document.activeElement;
        return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '[' + e.placeholder + ']'); }""")


def test_a_purchase_with_the_keyboard_alone(page, shop_url):
    page.goto(shop_url)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Buy")).to_be_focused()
    page.keyboard.press("Enter")
    frame = page.locator(FLOW_IFRAME).element_handle().content_frame()
    expect(frame.locator('input[placeholder="postal_code"]')).to_be_visible()

    seen = []
    for _ in range(12):  # from the overlay's close button into the flow, in order
        page.keyboard.press("Tab")
        if frame.evaluate("() => document.hasFocus() && document.activeElement !== document.body"):
            seen.append(focused(frame))
            # Focus is visible: our outline on every control we style.
            outline = frame.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", seen[-1]
            if seen[-1] == "input#email":
                break
    assert seen == ["select#locale", "button#change-language", "input#email"]

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
