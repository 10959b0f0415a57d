"""Locale negotiation, text direction and language names (buyflow/i18n.py), and the
layout rules that let the flow mirror itself for right-to-left languages."""

import re

import pytest
from babel import Locale
from flask import g, render_template_string
from flask_babel import force_locale, refresh

from buyflow import PROJECT_ROOT
from buyflow.config import DefaultConfig
from buyflow.i18n import (
    LANGUAGE_NAMES,
    language_name,
    negotiate_locale,
    supported_locale,
    text_direction,
)
from tests.conftest import SELLER_ORIGIN


@pytest.mark.parametrize("requested, expected", [
    ("fr", "fr"), ("fr-CA", "fr"), ("pt-BR", "pt_BR"), ("pt_br", "pt_BR"), ("pt-PT", "pt_BR"),
    ("zh-CN", "zh_CN"), ("zh", "zh_CN"), ("he-IL", "he"), ("ar", "ar"), ("xx", None),
    ("", None), (None, None),
])
def test_supported_locale(app, requested, expected):
    with app.test_request_context():
        assert supported_locale(requested) == expected


@pytest.mark.parametrize("requested, accept, seller_default, expected", [
    ("ja", "de-DE,de;q=0.9", "fr", "ja"),        # the Buyflow.open locale option first
    ("xx", "de-DE,de;q=0.9", "fr", "de"),        # then the browser's languages
    (None, "xx-YY, ko;q=0.8, en;q=0.5", "fr", "ko"),  # by preference, skipping unknown ones
    (None, "xx-YY", "fr", "fr"),                 # then the seller's default
    (None, "", "he", "he"),
    (None, "", None, "en"),                      # then the service's
])
def test_negotiation_order(app, requested, accept, seller_default, expected):
    with app.test_request_context(headers={"Accept-Language": accept} if accept else {}):
        assert negotiate_locale(requested, seller_default) == expected


@pytest.mark.parametrize("locale, direction", [
    ("ar", "rtl"), ("he", "rtl"), ("en", "ltr"), ("ja", "ltr"), ("zh_CN", "ltr"), ("fr", "ltr"),
])
def test_text_direction_comes_from_cldr(locale, direction):
    assert text_direction(locale) == direction


@pytest.mark.parametrize("locale, name", [
    ("fr", "Français"), ("de", "Deutsch"), ("ja", "日本語"), ("ar", "العربية"),
    ("he", "עברית"), ("pt_BR", "Português (Brasil)"),
])
def test_languages_are_named_in_their_own_language(locale, name):
    assert language_name(locale) == name


def test_every_shipped_language_is_named_as_cldr_names_it():
    # The table spares web workers Babel's locale data; it must say what that data says.
    for locale in DefaultConfig.LANGUAGES:
        cldr = Locale.parse(locale).display_name
        assert LANGUAGE_NAMES[locale] == cldr[:1].upper() + cldr[1:], locale


def test_a_language_without_a_written_name_is_named_from_cldr():
    assert "uk" not in LANGUAGE_NAMES
    assert language_name("uk") == "Українська"


# One request per test: the test client shares the fixture's app context (and so ``g``).
@pytest.mark.parametrize("params, html", [
    ({"locale": "he"}, '<html lang="he" dir="rtl">'),
    ({"locale": "pt-BR"}, '<html lang="pt-BR" dir="ltr">'),
    ({"locale": "ar", "product": "nope"}, '<html lang="ar" dir="rtl">'),  # the error page
])
def test_every_flow_page_gets_its_direction(client, product, params, html):
    query = {"seller": product.seller.public_id, "product": product.public_id,
             "origin": SELLER_ORIGIN, **params}
    assert html in client.get("/flow/", query_string=query).text


def test_management_pages_get_their_direction(client):
    assert '<html lang="ar" dir="rtl">' in client.get("/", headers={"Accept-Language": "ar"}).text


PHYSICAL = re.compile(
    r"(?<![\w-])(margin|padding|border|inset)-(left|right|top|bottom)\b"
    r"|(?<![\w-])(left|right|top|bottom|width|height|min-width|max-width|min-height|"
    r"max-height)\s*:"
    r"|text-align\s*:\s*(left|right)|float\s*:\s*(left|right)")


def test_the_flow_stylesheet_uses_logical_properties_only():
    css = (PROJECT_ROOT / "buyflow" / "flow" / "static" / "flow.css").read_text()
    assert PHYSICAL.findall(css) == []


def test_templates_speak_the_locale_in_force_as_it_changes(app):
    """The templates' strings follow Flask-Babel's locale within one request: the page's,
    then a mail's under ``force_locale``, then the page's again, then another after
    ``refresh`` (the translations are looked up once per locale, not once per string)."""
    template = ('{{ _("Amount to refund") }} | '
                '{{ ngettext("%(num)d attempt", "%(num)d attempts", 2) }}')
    with app.test_request_context("/?locale=fr"):
        assert render_template_string(template) == "Montant à rembourser | 2 tentatives"
        with force_locale("de"):
            assert render_template_string(template) == "Zu erstattender Betrag | 2 Versuche"
        assert render_template_string(template) == "Montant à rembourser | 2 tentatives"
        g.locale = "en"
        refresh()
        assert render_template_string(template) == "Amount to refund | 2 attempts"
