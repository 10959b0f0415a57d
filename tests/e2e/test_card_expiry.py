"""The development card field in Chromium: the year typed as "2034" or "34" is the same
year, and an invalid expiry comes back from our card provider adapter as ``invalid_expiry``,
which the flow shows as "The expiry date is incorrect", not as a decline."""

from __future__ import annotations

import re

import pytest
import requests
from flask import Flask
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def card_page_url(localstripe_url, service_url):
    """A page with localstripe's Stripe.js and our Stripe adapter, served on loopback as
    the flow is (Chromium keeps pages it cannot place off loopback addresses)."""
    html = (f'<!doctype html><html lang="en"><title>Card</title><div id="card"></div>'
            f'<script src="{localstripe_url}/js.stripe.com/v3/"></script>'
            f'<script src="{service_url}/flow/static/providers/stripe.js"></script>')
    site = Flask(__name__)
    site.get("/")(lambda: html)
    server = LiveServer(site)
    yield f"http://127.0.0.1:{server.port}/"
    server.stop()


@pytest.fixture
def card_page(page, card_page_url):
    """The card page with its card field mounted (``window.cards``, ``window.field``)."""
    page.goto(card_page_url)
    page.evaluate("""() => {
        window.cards = buyflowCardProvider.connect({publishable_key: 'pk_test_suite'});
        window.field = cards.mount(document.getElementById('card'), {locale: 'en'});
    }""")
    return page


def field(page, name: str):
    return page.locator(f'#card input[name="{name}"]')


def sent_year(page) -> str:
    # The adapter's field holds the provider's card Element once Stripe.js is there.
    return page.evaluate("async () => (await field.card).value.card.exp_year")


def test_a_four_digit_year_typed_key_by_key_stays_whole(card_page):
    field(card_page, "exp_month").press_sequentially("12")
    year = field(card_page, "exp_year")
    year.press_sequentially("20")
    assert card_page.evaluate("() => document.activeElement.name") == "exp_year"
    year.press_sequentially("34")
    assert sent_year(card_page) == "2034"
    assert card_page.evaluate("() => document.activeElement.name") == "cvc"


@pytest.mark.parametrize("typed", ["34", "2034"])
def test_two_and_four_digit_years_are_the_same_year(card_page, typed):
    field(card_page, "exp_year").fill(typed)
    assert sent_year(card_page) == "2034"


def setup_secret(localstripe_url) -> str:
    auth = {"Authorization": "Bearer sk_test_suite"}
    customer = requests.post(f"{localstripe_url}/v1/customers", headers=auth, timeout=10,
                             data={"email": "ann@example.com"}).json()
    setup = requests.post(f"{localstripe_url}/v1/setup_intents", headers=auth, timeout=10,
                          data={"customer": customer["id"]}).json()
    return setup["client_secret"]


def confirm(page, secret: str, month: str, year: str) -> dict:
    for name, value in zip(("number", "exp_month", "exp_year", "cvc", "postal_code"),
                           ("4242424242424242", month, year, "123", "75001")):
        field(page, name).fill(value)
    return page.evaluate(
        "secret => cards.confirmSetup(secret, field, {email: 'ann@example.com'})", secret)


@pytest.mark.parametrize("month, year", [("13", "34"), ("12", "203"), ("12", "2001")])
def test_an_invalid_expiry_is_an_expiry_error_not_a_decline(card_page, localstripe_url,
                                                            month, year):
    result = confirm(card_page, setup_secret(localstripe_url), month, year)
    assert result == {"ok": False, "error": {"code": "invalid_expiry"}}


def test_a_four_digit_year_is_accepted_by_the_provider(card_page, localstripe_url):
    result = confirm(card_page, setup_secret(localstripe_url), "12", "2034")
    assert result["ok"] is True and result["reference"].startswith("seti_")


def buy_with_expiry(page, shop_url, checkout, month: str, year: str) -> None:
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    checkout.frame.locator("#email").fill("ann@example.com")
    for name, value in zip(("number", "exp_month", "exp_year", "cvc", "postal_code"),
                           ("4242424242424242", month, year, "123", "75001")):
        checkout.frame.locator(f'input[name="{name}"]').fill(value)
    checkout.frame.locator("#pay").click()


def test_the_flow_says_an_invalid_expiry_is_incorrect_not_declined(page, shop_url, checkout):
    buy_with_expiry(page, shop_url, checkout, "13", "2034")
    expect(checkout.frame.get_by_role("alert")).to_have_text(
        "The expiry date is incorrect. Please check it and try again.")


def test_the_flow_takes_a_four_digit_year(page, shop_url, checkout):
    buy_with_expiry(page, shop_url, checkout, "12", "2034")
    expect(page.locator("#status")).to_have_text(re.compile("Thank you — order"),
                                                 timeout=20_000)
