"""The operator admin as an operator uses it, in Chromium: approving a seller waiting for
it, banning a domain, and what that ban does — the next checkout from that domain (a
subdomain too) is refused with a clear message and nothing is charged, and a person of
that domain cannot sign in — until the ban is lifted."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from buyflow.extensions import db
from buyflow.models import Buyer, Membership, Order, Payment, Seller
from tests.e2e.conftest import fill_card, open_flow
from tests.e2e.test_console import OPERATOR, make_operator, sign_in_as

pytestmark = pytest.mark.e2e

REFUSED = ("This email address cannot be used here. If you think this is a mistake, "
           "contact the shop.")


def a_pending_seller(app) -> str:
    """A business that signed up and waits for an operator; its public id."""
    with app.app_context():
        seller = Seller(name="Fresh Beans Ltd", origins=["https://fresh-beans.example"],
                        signing_secrets=["sign-fresh"], status="pending")
        db.session.add(Membership(seller=seller, person=Buyer(email="fay@fresh-beans.example"),
                                  role="owner"))
        db.session.commit()
        public_id = seller.public_id
        db.session.remove()
    return public_id


def orders_and_payments(app) -> tuple[list[str], list[str]]:
    with app.app_context():
        orders = db.session.scalars(db.select(Order.buyer_email)).all()
        payments = db.session.scalars(db.select(Payment.status)).all()
        db.session.remove()
    return orders, payments


def test_an_operator_approves_a_seller_and_a_banned_domain_can_neither_buy_nor_sign_in(
        app, page, browser, shop_url, service_url, mailbox, axe):
    make_operator(app)
    violations = {}  # axe's findings by page, checked at the end

    def audit(name: str, target) -> None:
        if found := axe(target):
            violations[name] = found

    pending = a_pending_seller(app)
    sign_in_as(page, service_url, mailbox, OPERATOR, "/admin/")

    # The seller waiting for approval, found by its status, approved.
    nav = page.get_by_role("navigation", name="Operator admin")
    nav.get_by_role("link", name="Sellers").click()
    expect(nav.get_by_role("link", name="Sellers")).to_have_attribute("aria-current", "page")
    page.get_by_label("Status").select_option(label="Waiting for approval")
    page.get_by_role("button", name="Show").click()
    sellers = page.get_by_role("table", name="Sellers")
    expect(sellers.get_by_role("row")).to_have_count(2)  # the header and the one seller
    sellers.get_by_role("link", name="Fresh Beans Ltd").click()
    expect(page.get_by_role("heading", name="Fresh Beans Ltd")).to_be_visible()
    page.get_by_role("button", name="Approve this seller").click()
    expect(page.locator(".lede .badge")).to_have_text("Active")
    with app.app_context():
        assert db.session.scalar(db.select(Seller.status).filter_by(public_id=pending)) \
            == "active"
        db.session.remove()

    # A domain banned, its subdomains with it.
    nav.get_by_role("link", name="Bans").click()
    page.get_by_label("Ban", exact=True).select_option(label="A domain and its subdomains")
    page.get_by_label("Email or domain", exact=True).fill("spam-mail.example")
    page.get_by_label(re.compile("^Why")).fill("Card testing from throwaway addresses.")
    page.get_by_role("button", name="Ban", exact=True).click()
    bans = page.get_by_role("table", name="Bans")
    banned = bans.get_by_role("row").filter(has_text="spam-mail.example")
    expect(banned).to_contain_text("In force")
    expect(banned).to_contain_text("Card testing from throwaway addresses.")
    audit("bans, one in force", page)

    # The next checkout from that domain is refused, and nothing is charged.
    buyer = browser.new_context().new_page()
    try:
        frame = open_flow(buyer, shop_url)
        frame.locator("#email").fill("eve@eu.spam-mail.example")
        fill_card(frame, "4242424242424242")
        frame.locator("#pay").click()
        expect(frame.get_by_role("alert")).to_have_text(REFUSED, timeout=20_000)
        audit("the flow, refused", frame)
        orders, payments = orders_and_payments(app)
        assert "eve@eu.spam-mail.example" not in orders and payments == []

        # Nor can a person of that domain sign in: no code is sent.
        sent = len(mailbox.messages)
        buyer.goto(f"{service_url}/account/sign-in")
        buyer.get_by_label("Email").fill("eve@spam-mail.example")
        buyer.get_by_role("button", name="Send me a code").click()
        expect(buyer.get_by_text(REFUSED)).to_be_visible()
        expect(buyer.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
        assert len(mailbox.messages) == sent
        audit("sign-in, refused", buyer)

        # The operator lifts the ban: the same person may sign in again.
        banned.get_by_role("button", name="Lift").click()
        expect(page.get_by_role("table", name="Bans").get_by_role("row").filter(
            has_text="spam-mail.example")).to_have_count(0)  # the list shows bans in force
        buyer.get_by_role("button", name="Send me a code").click()
        expect(buyer.get_by_role("heading", name="Enter your code")).to_be_visible()
    finally:
        buyer.context.close()

    # Each action is in the audit log, with who did it.
    nav.get_by_role("link", name="Audit log").click()
    log = page.get_by_role("main")
    for action in ("seller.approved", "ban.added", "ban.lifted"):
        expect(log.get_by_text(action).first).to_be_visible()
    expect(log).to_contain_text(OPERATOR)
    audit("audit log", page)
    assert violations == {}
