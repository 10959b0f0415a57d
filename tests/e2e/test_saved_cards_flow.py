"""Saved cards in the iframe: save a card on the first purchase after confirming a code
from the email, then pay with it next time without typing a card."""

import re

import pytest
from playwright.sync_api import expect

from buyflow.extensions import db
from buyflow.models import Card, Order
from tests.e2e.conftest import CARD_FIELDS, FLOW_FRAME
from tests.management.conftest import code_in

pytestmark = pytest.mark.e2e

THANKS = re.compile(r"Thank you — order (ord_\S+) verified")
EMAIL = "carla@example.com"


def open_flow(page, shop_url):
    """The shop's Buy button; the flow's Frame once its form is shown."""
    page.goto(shop_url)
    page.get_by_role("button", name=re.compile("Buy")).click()
    frame = page.locator(FLOW_FRAME).element_handle().content_frame()
    expect(frame.locator("#pay")).to_be_enabled()  # flow.js has wired it
    return frame


def unlock_saved_cards(frame, mailbox):
    """Ask for a code for EMAIL and confirm it with Enter, as a buyer may."""
    frame.locator("#email").fill(EMAIL)
    frame.get_by_role("button", name="Use my saved cards").click()
    code_field = frame.get_by_label("Code from the email")
    expect(code_field).to_be_focused()
    expect(code_field).to_have_accessible_description(re.compile(f"We sent a code to {EMAIL}"))
    code_field.fill(code_in(mailbox.last_to(EMAIL)))
    code_field.press("Enter")  # confirms the code (it does not pay)


def test_save_a_card_then_pay_with_it_after_a_new_code(app, page, shop_url, mailbox, axe,
                                                       screenshots_dir):
    frame = open_flow(page, shop_url)
    frame.locator("#email").fill(EMAIL)
    frame.get_by_role("button", name="Use my saved cards").click()
    expect(frame.get_by_label("Code from the email")).to_be_focused()
    assert axe(frame) == [], "the code step"

    frame.get_by_label("Code from the email").fill("000000" if code_in(
        mailbox.last_to(EMAIL)) != "000000" else "111111")
    frame.get_by_role("button", name="Confirm").click()
    expect(frame.get_by_role("alert")).to_have_text(re.compile("This code is not right"))
    expect(frame.get_by_label("Code from the email")).to_have_attribute("aria-invalid", "true")

    frame.get_by_label("Code from the email").fill(code_in(mailbox.last_to(EMAIL)))
    frame.get_by_role("button", name="Confirm").click()
    save = frame.get_by_label("Save this card for next time")
    expect(save).to_be_focused()  # no saved card yet: straight to saving this one
    expect(frame.get_by_role("status")).to_have_text(re.compile("no saved cards yet"))
    expect(frame.locator("#email")).to_have_attribute("readonly", "")
    for field, value in zip(CARD_FIELDS, ("4242424242424242", "12", "34", "123", "75001")):
        frame.locator(f'input[name="{field}"]').fill(value)
    save.check()
    frame.locator("#pay").click()
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)

    with app.app_context():
        [card] = db.session.scalars(db.select(Card)).all()
        card_id, method = card.public_id, card.provider_method_ref
        db.session.remove()

    # Next time: without the code, no card; after it, the saved card, chosen already.
    frame = open_flow(page, shop_url)
    expect(frame.get_by_role("radio")).to_have_count(0)
    unlock_saved_cards(frame, mailbox)
    saved = frame.get_by_role("radio", name="Visa ending in 4242, expires 12/2034")
    expect(saved).to_be_focused()
    expect(saved).to_be_checked()
    expect(frame.locator("#card-element")).to_be_hidden()
    assert axe(frame) == [], "the card list"
    frame.page.screenshot(path=str(screenshots_dir / "flow-saved-cards.png"))

    frame.get_by_role("radio", name="A new card").check()
    expect(frame.locator("#card-element")).to_be_visible()
    saved.check()
    expect(frame.locator("#card-element")).to_be_hidden()
    frame.locator("#pay").click()
    expect(page.locator("#status")).to_have_text(THANKS, timeout=20_000)
    order_id = THANKS.search(page.locator("#status").text_content()).group(1)

    with app.app_context():
        order = db.session.scalar(db.select(Order).filter_by(public_id=order_id))
        assert (order.status, order.buyer_email) == ("paid", EMAIL)
        [payment] = order.payments
        assert (payment.status, payment.provider_method_ref, payment.card_last4) == (
            "succeeded", method, "4242")
        assert [c.public_id for c in order.buyer.cards] == [card_id]
        db.session.remove()
