"""The embed library on a selling page, in Chromium: overlay, inline and new-window modes,
keyboard use, forged messages, and the library included twice. The pages are the test
selling site's (tests/e2e/seller_pages.py), under a strict CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CARD_FIELDS, FLOW_FRAME

pytestmark = pytest.mark.e2e

FLOW = FLOW_FRAME

RECORD_EVENTS = """() => {
  window.seen = [];
  for (const name of ['loaded', 'resized', 'completed', 'failed', 'closed']) {
    Buyflow.on(name, (e) => seen.push(name));
  }
  document.querySelector('#buy').addEventListener('buyflow:completed',
    (e) => { window.purchase = e.detail; });
}"""


def open_page(page, url: str, name: str):
    page.goto(f"{url}/page/{name}")
    page.wait_for_function("() => window.Buyflow")
    page.evaluate(RECORD_EVENTS)


def wait_loaded(page, times: int = 1):
    """Wait until the flow has said it is ready `times` times in this page."""
    page.wait_for_function("n => seen.filter((name) => name === 'loaded').length === n", arg=times)


def seen(page) -> list[str]:
    return page.evaluate("() => seen.filter((name) => name !== 'resized')")


def fill_and_pay(scope, number: str = "4242424242424242"):
    """Fill the flow's form in `scope` (a frame locator or a page) and pay."""
    scope.locator("#email").fill("ann@example.com")
    for field, value in zip(CARD_FIELDS, (number, "12", "34", "123", "75001")):
        scope.locator(f'input[name="{field}"]').fill(value)
    scope.locator("#pay").click()


ACTIVE = """() => {
  const a = document.activeElement;
  if (a.matches('[role=dialog] > button')) return 'close';
  if (a.matches('[role=dialog] > iframe')) return 'flow';
  return a.id || a.tagName;
}"""


def active(page) -> str:
    """What has the focus in the seller's page: the close button, the flow's iframe, or
    another element by id. Focus moving into or out of the cross-site frame passes through
    the page's body for a moment, so a value other than 'close' or 'flow' is read again
    until it settles (at most a second)."""
    for _ in range(20):
        where = page.evaluate(ACTIVE)
        if where in ("close", "flow"):
            return where
        page.wait_for_timeout(50)
    return where


def focused_in_flow(page) -> str:
    """The id of what has the focus inside the flow's frame ("" for nothing)."""
    return page.frame_locator(FLOW).locator("html").evaluate("() => document.activeElement.id")


def test_overlay_traps_focus_escape_closes_and_focus_returns(page, seller_pages_url):
    open_page(page, seller_pages_url, "overlay")
    page.locator("#buy").focus()
    page.keyboard.press("Enter")  # a declarative button, by keyboard
    dialog = page.get_by_role("dialog", name="Checkout")
    expect(dialog).to_be_visible()
    wait_loaded(page)
    # Ready: the corner button gave way to the panel's own close control, and the focus
    # it had is in the flow.
    expect(dialog.locator(":scope > button")).to_have_count(0)
    assert active(page) == "flow"
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") == "hidden"

    page.keyboard.press("Tab")
    assert focused_in_flow(page) == "close"  # the panel's close control comes first
    # Tab through the whole flow: focus never leaves the dialog and comes back round.
    ids = []
    for _ in range(30):
        page.keyboard.press("Tab")
        assert active(page) == "flow"
        ids.append(focused_in_flow(page))
        if ids[-1] == "close":
            break
    assert ids[0] == "email" and ids[-1] == "close" and {"pay", "cancel", "locale"} <= set(ids)
    # Shift+Tab from the first control goes round to the last one, still in the dialog.
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
        assert active(page) == "flow"
        if focused_in_flow(page) == "locale":
            break
    assert focused_in_flow(page) == "locale"

    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert active(page) == "buy"
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") == "visible"
    assert seen(page) == ["loaded", "closed"]


def test_while_the_flow_loads_the_corner_button_and_escape_close_it(page, seller_pages_url):
    page.route(lambda url: "/flow/?" in url, lambda route: None)  # the flow never answers
    open_page(page, seller_pages_url, "overlay")
    page.locator("#buy").click()
    corner = page.get_by_role("dialog").get_by_role("button", name="Close")
    expect(corner).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.locator("#buy").click()
    page.get_by_role("dialog").get_by_role("button", name="Close").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert seen(page) == ["closed", "closed"]


def test_escape_inside_the_flow_and_the_close_button_close_it(page, seller_pages_url):
    open_page(page, seller_pages_url, "overlay")
    page.locator("#buy").click()
    wait_loaded(page)
    page.frame_locator(FLOW).locator("#email").click()
    page.keyboard.press("Escape")  # the flow hears it and asks the page to close
    expect(page.locator(FLOW)).to_have_count(0)
    assert active(page) == "buy"

    page.locator("#buy").click()
    wait_loaded(page, 2)
    page.frame_locator(FLOW).get_by_role("button", name="Close").click()  # the panel's
    expect(page.locator(FLOW)).to_have_count(0)
    assert seen(page) == ["loaded", "closed", "loaded", "closed"]


def test_a_declarative_button_added_later_buys_and_gets_the_result(page, seller_pages_url):
    open_page(page, seller_pages_url, "overlay")
    page.evaluate("""() => {
      document.querySelector('#buy').remove();
      const b = document.createElement('button');
      b.id = 'buy';
      b.textContent = 'Buy coffee (new)';
      b.dataset.buyflowSeller = 'sel_demo';
      b.dataset.buyflowProduct = 'prod_demo_coffee';
      b.addEventListener('buyflow:completed', (e) => { window.purchase = e.detail; });
      document.body.append(b);
    }""")
    page.get_by_role("button", name="Buy coffee (new)").click()
    fill_and_pay(page.frame_locator(FLOW))
    page.wait_for_function("() => window.purchase", timeout=20_000)
    purchase = page.evaluate("window.purchase")
    assert purchase["status"] == "paid" and purchase["order"].startswith("ord_")
    assert purchase["result"].count(".") >= 2
    page.frame_locator(FLOW).get_by_role("button", name="Done").click()
    expect(page.locator(FLOW)).to_have_count(0)
    assert seen(page) == ["loaded", "completed", "closed"]


def test_inline_mounts_in_the_container_sized_to_its_content(page, seller_pages_url):
    open_page(page, seller_pages_url, "inline")
    page.locator("#buy").click()
    frame = page.locator(f"#pay > {FLOW}")
    expect(frame).to_have_count(1)
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.wait_for_function("() => seen.includes('resized')")
    content = page.frame_locator(FLOW).locator("html").evaluate(
        "html => html.scrollHeight")
    height = frame.evaluate("f => f.getBoundingClientRect().height")
    assert abs(height - content) <= 2
    # The frame follows its content when the content grows.
    page.frame_locator(FLOW).locator("body").evaluate(
        "body => { const d = document.createElement('div'); d.style.height = '300px';"
        " body.append(d); }")
    page.wait_for_function(
        "([sel, h]) => document.querySelector(sel).getBoundingClientRect().height >= h + 298",
        arg=[f"#pay > {FLOW}", height])
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") == "visible"
    fill_and_pay(page.frame_locator(FLOW))
    page.wait_for_function("() => window.purchase", timeout=20_000)
    assert page.evaluate("window.purchase.status") == "paid"


def test_window_mode_buys_in_a_new_window_with_the_same_result(page, seller_pages_url):
    open_page(page, seller_pages_url, "window")
    with page.expect_popup() as opened:
        page.locator("#buy").click()
    popup = opened.value
    assert re.search(r"/flow/\?origin=[^&]+&seller=sel_demo&product=prod_demo_coffee", popup.url)
    expect(page.locator("iframe")).to_have_count(0)
    fill_and_pay(popup)
    page.wait_for_function("() => window.purchase", timeout=20_000)
    assert page.evaluate("window.purchase.status") == "paid"
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Done").click()  # the flow asks; the page closes it
    page.wait_for_function("() => seen.includes('closed')")
    assert seen(page) == ["loaded", "completed", "closed"]


def test_a_page_that_cannot_frame_the_flow_gets_a_window_and_closing_it_is_closed(
        page, seller_pages_url):
    open_page(page, seller_pages_url, "no-frames")
    page.evaluate("""() => Buyflow.on('closed', () => { window.closedAt = Date.now(); })""")
    with page.expect_popup() as opened:
        page.locator("#buy").click()
    popup = opened.value
    expect(popup.locator("#email")).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.wait_for_function("() => seen.includes('loaded')")
    popup.close()  # the buyer closes the window
    page.wait_for_function("() => window.closedAt")
    assert seen(page) == ["loaded", "closed"]


def test_forged_messages_from_another_origin_are_ignored(page, seller_pages_url):
    open_page(page, seller_pages_url, "spoofed")
    page.evaluate("""() => { window.outcome = 'pending';
      Buyflow.open({seller: 'sel_demo', product: 'prod_demo_coffee'}).then(
        (r) => { outcome = 'resolved:' + r.order; }, (e) => { outcome = 'rejected:' + e.code; }); }""")
    flow = page.frame_locator(FLOW)
    expect(flow.locator("#email")).to_be_visible()
    # The forging frame posts completed, close and resize to this page, now, while open.
    page.evaluate("() => { const f = document.getElementById('forger'); f.src = f.src + '?again'; }")
    expect(page.frame_locator("#forger").locator("body")).to_have_text("posted")
    page.wait_for_timeout(300)
    assert page.evaluate("outcome") == "pending"
    expect(page.locator(FLOW)).to_be_visible()
    assert "completed" not in seen(page)
    page.frame_locator(FLOW).get_by_role("button", name="Close").click()
    page.wait_for_function("() => outcome !== 'pending'")
    assert page.evaluate("outcome") == "rejected:closed"


def test_included_twice_pinned_with_integrity_works_once(page, seller_pages_url, app):
    from buyflow.embed import library_version

    open_page(page, seller_pages_url, "twice")
    assert page.evaluate("Buyflow.version") == library_version(app)
    page.locator("#buy").click()
    wait_loaded(page)
    expect(page.locator(FLOW)).to_have_count(1)
    expect(page.get_by_role("dialog")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator(FLOW)).to_have_count(0)
    assert seen(page) == ["loaded", "closed"]


def test_a_click_on_the_backdrop_keeps_the_focus_in_the_dialog(page, seller_pages_url):
    open_page(page, seller_pages_url, "overlay")
    page.locator("#buy").click()
    wait_loaded(page)
    page.mouse.click(5, 300)  # the backdrop, beside the flow
    in_dialog = "() => !!document.activeElement.closest('[role=dialog]')"
    assert page.evaluate(in_dialog)
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(in_dialog)
