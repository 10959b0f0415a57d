"""The buy flow's design, in Chromium: the layout facts that matter (the close control on
the panel, nothing moving when a message appears, right-to-left mirrored), the seller's
accent only where its contrast holds, dark mode and reduced motion; and every step of the
flow in en, ar and ja, 360 and 1280 px wide, light and dark — nothing wider than the
screen, targets of 24x24 px at least, no axe violation — written to the screenshot
gallery."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from buyflow.buyers.identity import buyer_for_email
from buyflow.extensions import db
from buyflow.ledger import book
from buyflow.models import Card, Seller
from buyflow.sellers import brand
from tests.e2e.conftest import FLOW_FRAME, fill_card, open_flow
from tests.management.conftest import code_in

pytestmark = pytest.mark.e2e

EMAIL = "gallery@example.com"
VIEWPORT_HEIGHT = 900
# The gallery's widths, each tall enough for the longest step's whole panel.
GALLERY_SIZES = {360: 1300, 1280: 1000}
# The accents of flow.css: ours, in the light and the dark scheme.
OUR_ACCENT = {"light": "rgb(11, 87, 208)", "dark": "rgb(138, 180, 248)"}
# What can be clicked, tapped or typed into in the flow (WCAG 2.5.8: 24x24 px at least).
TARGETS = "button, select, input:not([type=hidden]), a[href], label.choice, [tabindex='0']"

VISIBLE_TARGETS_TOO_SMALL = """selector => [...document.querySelectorAll(selector)]
  .filter(e => e.checkVisibility())
  .map(e => [e.id || e.name || e.className || e.tagName, e.getBoundingClientRect()])
  .filter(([, r]) => r.width < 24 || r.height < 24)
  .map(([name, r]) => `${name} ${Math.round(r.width)}x${Math.round(r.height)}`)"""

OVERFLOW = """() => [document.documentElement.scrollWidth - document.documentElement.clientWidth,
  ...[...document.querySelectorAll('body *')].filter(e => e.checkVisibility())
     .filter(e => { const r = e.getBoundingClientRect();
                    return r.left < -1 || r.right > document.documentElement.clientWidth + 1; })
     .map(e => e.id || e.className || e.tagName)]"""


def box(locator) -> dict:
    return locator.evaluate("e => e.getBoundingClientRect().toJSON()")


def set_accent(app, colour: str | None) -> None:
    with app.app_context():
        seller = db.session.scalar(db.select(Seller).filter_by(public_id="sel_demo"))
        brand.set_accent(seller, colour)
        db.session.commit()
        db.session.remove()


def pay_colour(frame) -> str:
    return frame.locator("#pay").evaluate("e => getComputedStyle(e).backgroundColor")


# --- The layout facts ------------------------------------------------------------------


def test_the_close_control_is_on_the_panel_and_the_corner_button_goes(page, shop_url):
    page.set_viewport_size({"width": 1280, "height": VIEWPORT_HEIGHT})
    frame = open_flow(page, shop_url)
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(":scope > button")).to_have_count(0)  # the page's corner ×
    panel = page.locator(FLOW_FRAME).bounding_box()
    close = frame.locator("#close").bounding_box()  # in the page's coordinates
    assert panel["x"] < close["x"] and close["x"] + close["width"] < panel["x"] + panel["width"]
    assert panel["y"] < close["y"] < panel["y"] + 48  # at the panel's top
    assert panel["x"] + panel["width"] - (close["x"] + close["width"]) < 48  # its end corner
    expect(frame.locator("#close")).to_have_accessible_name("Close")

    frame.locator("#close").click()
    expect(page.locator(FLOW_FRAME)).to_have_count(0)


@pytest.mark.parametrize("locale, direction", [("ar", "rtl"), ("he", "rtl"), ("en", "ltr")])
def test_right_to_left_languages_get_a_mirrored_layout(page, shop_url, locale, direction):
    frame = open_flow(page, shop_url, locale=locale)
    expect(frame.locator("html")).to_have_attribute("dir", direction)
    form, label = box(frame.locator("#pay-form")), box(frame.locator('label[for="email"]'))
    seller, close = box(frame.locator(".seller")), box(frame.locator("#close"))
    total, price = box(frame.locator(".total")), box(frame.locator("#price"))
    start, end = ("right", "left") if direction == "rtl" else ("left", "right")
    # Labels and the seller at the start edge (the right one in ar and he); the close
    # control and the total's amount at the end edge (the left one).
    assert abs(label[start] - form[start]) < 1
    assert abs(seller[start] - form[start]) < 1
    assert abs(close[end] - form[end]) < 1
    assert abs(price[end] - total[end]) < 1
    assert (close["left"] < seller["left"]) is (direction == "rtl")
    assert frame.locator("#email-hint").evaluate("e => getComputedStyle(e).direction") == direction


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_error_line_appearing_moves_nothing(page, shop_url, axe, scheme):
    page.emulate_media(color_scheme=scheme)
    frame = open_flow(page, shop_url)
    before = [box(frame.locator(selector)) for selector in ("#pay", "#cancel", "#card-element")]
    frame.locator("#email").fill("not-an-email")
    frame.locator("#pay").click()
    expect(frame.get_by_role("alert")).to_have_text("Please enter a valid email address.")
    expect(frame.locator("#email")).to_have_attribute("aria-invalid", "true")
    assert [box(frame.locator(s)) for s in ("#pay", "#cancel", "#card-element")] == before
    assert axe(frame) == [], "an invalid email"


# --- The seller's accent, dark mode, reduced motion --------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_sellers_accent_is_used_where_its_contrast_holds(app, page, shop_url, scheme):
    page.emulate_media(color_scheme=scheme)
    # The demo seller's dark brown: enough contrast on the light panel, not on the dark one.
    frame = open_flow(page, shop_url)
    brown = "rgb(111, 78, 55)"
    assert pay_colour(frame) == (brown if scheme == "light" else OUR_ACCENT["dark"])
    assert frame.locator("#pay").evaluate("e => getComputedStyle(e).color") == (
        "rgb(255, 255, 255)" if scheme == "light" else "rgb(17, 17, 17)")

    # A bright yellow: the other way round.
    set_accent(app, "#ffd200")
    frame = open_flow(page, shop_url)
    assert pay_colour(frame) == (OUR_ACCENT["light"] if scheme == "light"
                                 else "rgb(255, 210, 0)")

    set_accent(app, None)  # no accent: ours in both
    frame = open_flow(page, shop_url)
    assert pay_colour(frame) == OUR_ACCENT[scheme]


def test_dark_mode_and_reduced_motion_change_tokens_only(page, shop_url):
    page.emulate_media(color_scheme="dark", reduced_motion="reduce")
    frame = open_flow(page, shop_url)
    assert frame.evaluate("() => getComputedStyle(document.body).backgroundColor") == (
        "rgb(27, 28, 31)")
    # The spinner Pay shows while the payment is on its way (a live style: read at once).
    spinner = """() => { const pay = document.getElementById('pay'); pay.disabled = true;
        const after = getComputedStyle(pay, '::after');
        const seen = [after.display, after.animationName];
        pay.disabled = false;
        return seen; }"""
    assert frame.evaluate(spinner) == ["none", "none"]
    page.emulate_media(color_scheme="light", reduced_motion="no-preference")
    assert frame.evaluate("() => getComputedStyle(document.body).backgroundColor") == (
        "rgb(255, 255, 255)")
    assert frame.evaluate(spinner) == ["block", "spin"]


# --- Every step, every variant: axe, the layout facts, the gallery ------------------------


def give_a_saved_card_and_credit(app) -> None:
    """EMAIL has a saved Visa and €5.00 of credit with the demo seller."""
    with app.app_context():
        seller = db.session.scalar(db.select(Seller).filter_by(public_id="sel_demo"))
        buyer = buyer_for_email(EMAIL)
        db.session.add(Card(buyer=buyer, provider="stripe", provider_method_ref="pm_gallery",
                            brand="visa", last4="4242", exp_month=12, exp_year=2034,
                            is_default=True))
        book.grant(seller, buyer, "EUR", 500, idempotency_key="gallery-credit", reason="gift")
        db.session.commit()
        db.session.remove()


class Steps:
    """One walk through the flow in one locale and scheme: at each step, at each width,
    the checks and a shot (the viewport resized in place: one walk for both widths)."""

    def __init__(self, page, frame, axe, folder, locale: str, scheme: str):
        self.page, self.frame, self.axe = page, frame, axe
        self.folder, self.locale, self.scheme = folder, locale, scheme

    def _settle(self) -> None:
        """Wait until the overlay's frame has the flow's height (it follows resizes)."""
        frame_height = "() => Math.ceil(document.documentElement.getBoundingClientRect().height)"
        for _ in range(40):
            shown = self.page.locator(FLOW_FRAME).evaluate("f => parseInt(f.style.height)")
            if shown == self.frame.evaluate(frame_height):
                return
            self.page.wait_for_timeout(50)

    def check(self, step: str) -> None:
        """At 360 then 1280 px: nothing overflows, every target is 24x24 px at least, axe
        finds nothing (at 360 px: the same rules at the other width), and the gallery
        gets flow-<step>-<locale>-<width>-<scheme>.png. The walk goes on at 1280 px."""
        for width, height in GALLERY_SIZES.items():
            self.page.set_viewport_size({"width": width, "height": height})
            self._settle()
            if width == 360:
                assert self.axe(self.frame) == [], step
            assert self.frame.evaluate(OVERFLOW) == [0], (step, width)
            assert self.frame.evaluate(VISIBLE_TARGETS_TOO_SMALL, TARGETS) == [], (step, width)
            self.frame.evaluate("() => document.fonts.ready")
            self.page.wait_for_timeout(100)  # let the out-of-process frame paint
            name = f"flow-{step}-{self.locale}-{width}-{self.scheme}.png"
            self.page.screenshot(path=self.folder / name, animations="disabled")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("locale", ["en", "ar", "ja"])
def test_every_step_of_the_flow(app, page, shop_url, mailbox, axe, gallery_dir, locale,
                                scheme):
    give_a_saved_card_and_credit(app)
    page.set_viewport_size({"width": 1280, "height": GALLERY_SIZES[1280]})
    page.emulate_media(color_scheme=scheme)
    frame = open_flow(page, shop_url, locale=locale)
    steps = Steps(page, frame, axe, gallery_dir, locale, scheme)
    steps.check("open")

    frame.locator("#email").fill(EMAIL)
    frame.locator("#saved-cards").click()
    expect(frame.locator("#code")).to_be_focused()
    steps.check("code")

    frame.locator("#code").fill(code_in(mailbox.last_to(EMAIL)))
    frame.locator("#confirm-code").click()
    expect(frame.locator("#saved-card-list input")).to_be_focused()
    expect(frame.locator("#credit-field")).to_be_visible()
    steps.check("choice")

    frame.locator("#new-card-choice").check()
    fill_card(frame, "4000000000000341")
    pay = box(frame.locator("#pay"))
    frame.locator("#pay").click()
    expect(frame.locator("#flow-error")).not_to_be_empty(timeout=20_000)
    expect(frame.locator("#language-form")).to_be_hidden()  # gone once paying started
    assert box(frame.locator("#pay")) == pay
    steps.check("declined")

    # The first answer of the bank held back: the page waits, and says so.
    held = []

    def hold_the_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.context.route("**/flow/api/refresh", hold_the_first)
    frame.locator('input[name="number"]').fill("4242424242424242")
    frame.locator("#pay").click()
    expect(frame.locator("#flow-status")).not_to_be_empty()
    for _ in range(100):  # each wait lets the route handler run
        if held:
            break
        page.wait_for_timeout(50)
    assert held and box(frame.locator("#pay")) == pay
    steps.check("processing")
    held[0].continue_()

    expect(frame.locator("#done")).to_be_focused(timeout=20_000)
    expect(frame.locator("#receipt-to")).to_contain_text(EMAIL)
    steps.check("done")
