"""What the flow's page renders for its design: the seller's name and logo, the accent as
tokens per colour scheme allowed by their hash in the CSP, the one-control language menu,
the panel's close control, and who processes the card."""

import base64
import hashlib
import re

import pytest

from buyflow import PROJECT_ROOT
from buyflow.extensions import db
from buyflow.flow.theme import DARK_PANEL, LIGHT_PANEL
from buyflow.sellers import brand
from tests.conftest import SELLER_ORIGIN

LOGO = (PROJECT_ROOT / "buyflow" / "dev" / "static" / "demo-logo.png").read_bytes()
INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def flow_page(client, product, **query):
    response = client.get("/flow/", query_string={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN, **query})
    assert response.status_code == 200
    return response


def set_brand(seller, accent=None, logo=None):
    brand.set_accent(seller, accent)
    brand.set_logo(seller, logo)
    db.session.commit()


def test_the_panel_names_the_seller_with_its_logo(client, app, product):
    set_brand(product.seller, logo=LOGO)
    html = flow_page(client, product).text
    with app.test_request_context():
        logo = brand.logo_url(product.seller)
    bar = re.search(r'<div class="panel-bar">.*?</div>', html, re.S).group(0)
    # The name says who it is (the logo beside it is decorative), in its own direction.
    assert f'<img class="seller-logo" src="{logo}" alt=""' in bar
    assert "<bdi>Northwind Coffee</bdi>" in bar
    assert client.get(logo).data == LOGO  # served from our origin, as the CSP wants


def test_without_a_logo_the_name_alone(client, product):
    bar = re.search(r'<div class="panel-bar">.*?</div>', flow_page(client, product).text,
                    re.S).group(0)
    assert "<img" not in bar and "<bdi>Northwind Coffee</bdi>" in bar


def test_the_close_control_is_on_the_panel_in_the_buyers_language(client, product):
    bar = re.search(r'<div class="panel-bar">.*?</div>',
                    flow_page(client, product, locale="fr").text, re.S).group(0)
    assert re.search(r'<button id="close" type="button" class="icon-button" '
                     r'aria-label="Fermer"', bar)


def test_the_language_menu_is_one_control(client, product):
    form = re.search(r'<form id="language-form".*?</form>',
                     flow_page(client, product).text, re.S).group(0)
    assert len(re.findall(r"<select id=\"locale\" name=\"locale\">", form)) == 1
    assert "<button" not in form and "Change language" not in form


def test_who_processes_the_card_comes_from_the_provider(client, product, app):
    from buyflow.payments import get_provider

    name = get_provider().browser_config()["display_name"]
    html = flow_page(client, product).text
    assert f"Payments are processed securely by {name}." in html


def inline_style(response) -> str | None:
    match = INLINE_STYLE.search(response.text)
    return match.group(1) if match else None


def style_src(response) -> list[str]:
    csp = dict(part.split(" ", 1) for part in
               response.headers["Content-Security-Policy"].split("; "))
    return csp["style-src"].split(" ")


def sha256_source(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


@pytest.mark.parametrize("accent, light, dark", [
    # A dark brown reads on the light panel only; a bright yellow on the dark one only;
    # a mid blue on both (with dark text on it in both).
    ("#6f4e37", "--accent:#6f4e37;--on-accent:#ffffff", None),
    ("#FFD200", None, "--accent:#ffd200;--on-accent:#111111"),
    ("#3b82f6", "--accent:#3b82f6;--on-accent:#111111", "--accent:#3b82f6;--on-accent:#111111"),
])
def test_the_sellers_accent_is_a_change_of_tokens_per_scheme(client, product, accent,
                                                            light, dark):
    set_brand(product.seller, accent=accent)
    response = flow_page(client, product)
    css = inline_style(response)
    expected = "".join(
        f"@media (prefers-color-scheme:{scheme}){{:root{{{tokens}}}}}"
        for scheme, tokens in (("light", light), ("dark", dark)) if tokens)
    assert css == expected
    # Allowed by its hash, and no other inline style is.
    assert style_src(response) == ["'self'", sha256_source(css)]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("accent", [None, "#777777"])  # grey: no text reads on it
def test_no_usable_accent_no_inline_style(client, product, accent):
    set_brand(product.seller, accent=accent)
    response = flow_page(client, product)
    assert inline_style(response) is None
    assert style_src(response) == ["'self'"]


def test_the_panels_checked_against_are_the_stylesheets():
    css = (PROJECT_ROOT / "buyflow" / "flow" / "static" / "flow.css").read_text()
    root, dark = css.split("@media (prefers-color-scheme: dark)", 1)
    assert f"--panel: {LIGHT_PANEL};" in root
    assert f"--panel: {DARK_PANEL};" in dark.split("}", 1)[0]


def test_the_flow_stylesheet_keeps_colours_in_tokens():
    """Rules use tokens: a colour literal appears only where a token is defined."""
    css = (PROJECT_ROOT / "buyflow" / "flow" / "static" / "flow.css").read_text()
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    literals = [line.strip() for line in css.splitlines()
                if re.search(r"#[0-9a-fA-F]{3,8}\b|rgb\(", line)
                and not re.match(r"\s*--[\w-]+:", line)]
    assert literals == []


def test_after_choosing_a_language_the_menu_keeps_the_focus(client, product):
    from tests.conftest import page_data

    opened = flow_page(client, product)
    chosen = client.post("/flow/", data={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN, "locale": "ja", "email": ""})
    assert page_data(opened.text)["languageChosen"] is False
    assert page_data(chosen.text)["languageChosen"] is True
