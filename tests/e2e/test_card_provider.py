"""In the browser, only the card provider's adapter (flow/static/providers/<name>.js) calls
the provider's script: a whole purchase with 3-D Secure, and adding a card on the account
page, with every call into localstripe's Stripe.js traced to its caller."""

import re

import pytest
from playwright.sync_api import expect

from buyflow import PROJECT_ROOT
from buyflow.static_assets import served_form
from tests.e2e.conftest import FLOW_FRAME, fill_card

pytestmark = pytest.mark.e2e

THANKS = re.compile(r"Thank you — order (ord_\S+) verified")
# The adapter as the pages load it, under digested names (buyflow/static_assets.py): alone
# (the account's add-card page), or first in the checkout page's one script, whose lines
# after the adapter's are the protocol's and the flow's.
ADAPTER = re.compile(r"/assets/flow/providers/stripe\.[0-9a-f]+\.js")
CHECKOUT_BUNDLE = re.compile(r"/assets/flow/checkout-stripe\.[0-9a-f]+\.js")
ADAPTER_LINES = served_form(
    PROJECT_ROOT / "buyflow" / "flow" / "static" / "providers" / "stripe.js").count(b"\n") + 1

# Runs first in every frame: wraps window.Stripe, then every method of what it returns (and
# of what those return), and notes each call with the first script URL on its stack and
# the line there: the caller. Calls the provider's script makes into itself name its own URL. The notes live in
# sessionStorage too, so they outlast the account page's form submission.
TRACE_PROVIDER_CALLS = r"""(() => {
  const KEY = 'buyflow-test-provider-calls';
  let calls = [];
  try { calls = JSON.parse(sessionStorage.getItem(KEY) || '[]'); } catch (e) { /* opaque */ }
  window.__providerCalls = calls;
  function note(name) {
    const line = new Error().stack.split('\n').find(l => /https?:\/\//.test(l)) || '';
    const at = line.match(/(https?:\/\/[^\s)]+?):(\d+):\d+/) || ['', '', '0'];
    calls.push([name, at[1], Number(at[2])]);
    try { sessionStorage.setItem(KEY, JSON.stringify(calls)); } catch (e) { /* opaque */ }
  }
  const watched = new WeakSet();
  function watch(value) {
    if (!value || typeof value !== 'object' || value instanceof Promise ||
        value instanceof Node || watched.has(value)) return value;
    watched.add(value);
    for (let o = value; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Object.getOwnPropertyNames(o)) {
        const fn = Object.getOwnPropertyDescriptor(o, key).value;
        if (key === 'constructor' || typeof fn !== 'function') continue;
        if (o !== value && Object.prototype.hasOwnProperty.call(value, key)) continue;
        value[key] = function () { note(key); return watch(fn.apply(this, arguments)); };
      }
    }
    return value;
  }
  let wrapped;
  Object.defineProperty(window, 'Stripe', {
    configurable: true,
    get() { return wrapped; },
    set(real) {
      wrapped = function () { note('Stripe'); return watch(real.apply(this, arguments)); };
    },
  });
})();"""


def our_calls_into_the_provider(frame, service_url) -> set[str]:
    """The methods of the provider's script our scripts called; each call must come from
    the adapter."""
    calls = frame.evaluate("() => window.__providerCalls")
    ours = [(name, url[len(service_url):], line) for name, url, line in calls
            if url.startswith(service_url + "/")]
    assert ours, "no call into the provider's script was traced"
    assert all(ADAPTER.fullmatch(path)
               or (CHECKOUT_BUNDLE.fullmatch(path) and 1 <= line <= ADAPTER_LINES)
               for _, path, line in ours), ours
    return {name for name, _, _ in ours}


def test_only_the_adapter_calls_the_providers_script_in_the_flow(page, shop_url, service_url,
                                                                 checkout):
    page.context.add_init_script(TRACE_PROVIDER_CALLS)
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    checkout.fill("4000002500003155")
    checkout.frame.locator("#pay").click()
    checkout.authenticate(times=1)
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)

    frame = page.locator(FLOW_FRAME).element_handle().content_frame()
    called = our_calls_into_the_provider(frame, service_url)
    assert {"Stripe", "elements", "create", "mount", "confirmCardPayment"} <= called


def test_only_the_adapter_calls_the_providers_script_on_the_cards_page(page, service_url,
                                                                       browser_sign_in):
    page.context.add_init_script(TRACE_PROVIDER_CALLS)
    browser_sign_in()
    page.goto(f"{service_url}/account/cards/new")
    fill_card(page, "4242424242424242")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_text("Card added.")).to_be_visible()

    called = our_calls_into_the_provider(page, service_url)
    assert {"Stripe", "elements", "create", "mount", "confirmCardSetup"} <= called
