"""What the flow page's script may show by itself, in the buyer's language: the texts are
rendered once per locale and kept, and each locale gets its own."""

import re

import pytest
from flask_babel import force_locale

from buyflow import PROJECT_ROOT
from buyflow.extensions import db
from buyflow.flow.messages import BUYER_MESSAGES, PAGE_CODES, buyer_message
from tests.conftest import SELLER_ORIGIN, make_product, make_seller, page_data

SCRIPTS = PROJECT_ROOT / "buyflow" / "flow" / "static"


@pytest.fixture
def shop(app):
    """The seller's and product's ids, made outside the test's requests: each request then
    has an app context of its own, as in production (the ``product`` fixture's context
    would be shared by them, and Flask-Babel keeps the locale there)."""
    with app.app_context():
        product = make_product(make_seller())
        ids = {"seller": product.seller.public_id, "product": product.public_id}
        db.session.remove()
    return ids


def opened(client, shop, locale) -> dict:
    response = client.get("/flow/", query_string={**shop, "origin": SELLER_ORIGIN,
                                                   "locale": locale})
    assert response.status_code == 200
    return page_data(response.text)


def test_each_locale_gets_its_own_texts_also_after_another_was_kept(app, client, shop):
    pages = {locale: opened(client, shop, locale) for locale in ("en", "fr", "de")}
    english_again = opened(client, shop, "en")
    with app.test_request_context():
        for locale, data in pages.items():
            with force_locale(locale):
                assert data["messages"] == {code: buyer_message(code) for code in PAGE_CODES}
    assert english_again["messages"] == pages["en"]["messages"]
    assert english_again["text"] == pages["en"]["text"]
    assert pages["fr"]["messages"]["card_declined"].startswith("Votre carte")
    assert [pages[locale]["text"]["title"] for locale in ("en", "fr", "de")] == [
        "Checkout", "Paiement", "Kasse"]


def test_the_language_menu_posts_back_a_page_in_the_new_language(client, shop):
    opened(client, shop, "en")  # English kept first
    switched = client.post("/flow/", data={**shop, "origin": SELLER_ORIGIN, "locale": "ja"})
    data = page_data(switched.text)
    assert data["locale"] == "ja" and data["text"]["close"] == "閉じる"


def test_every_code_a_script_shows_by_itself_has_its_message_in_the_page(client, shop):
    """The codes the card provider's adapters answer, and those flow.js gives itself (no
    server answer carries their message), are the page's; any other comes with its
    message from the server."""
    codes = set(BUYER_MESSAGES)
    named = set()
    for adapter in sorted((SCRIPTS / "providers").glob("*.js")):
        named |= set(re.findall(r"'([a-z_]+)'", adapter.read_text())) & codes
    flow_js = (SCRIPTS / "flow.js").read_text()
    named |= set(re.findall(r"(?:code: |showError\()'([a-z_]+)'", flow_js))
    assert {"card_declined", "bank_timeout", "provider_unavailable"} <= named
    assert named <= set(PAGE_CODES) <= codes
    assert set(opened(client, shop, "en")["messages"]) == set(PAGE_CODES)
