"""Every shipped catalog translates every marked string, with no fuzzy entry, and keeps
each message's placeholders."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext

from buyflow import PROJECT_ROOT
from buyflow.config import DefaultConfig
from buyflow.models.people import SellerRole
from management.console.labels import ROLE_LABELS

# English is the source language: its msgids are the English text, so it has no catalog.
CATALOG_LOCALES = [locale for locale in DefaultConfig.LANGUAGES
                   if locale != DefaultConfig.BABEL_DEFAULT_LOCALE]
REQUIRED_LOCALES = {"en", "fr", "de", "es", "it", "pt_BR", "nl", "pl", "sv", "tr",
                    "ja", "ko", "zh_CN", "ru", "ar", "he"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _msgid(message) -> tuple[str | None, str]:
    """A message's context (None for most) and its id (its singular, for a plural)."""
    return message.context, message.id if isinstance(message.id, str) else message.id[0]


def _forms(value) -> list[str]:
    """A message's string(s): one for a simple message, one per plural form otherwise."""
    return [value] if isinstance(value, str) else list(value)


def read_catalog(locale: str):
    with (PROJECT_ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def marked_strings(tmp_path_factory) -> set[str]:
    """What the code marks for translation now (a fresh extraction, not the .pot on disk)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([pybabel, "extract", "-F", "babel.cfg", "-k", "lazy_gettext",
                    "-k", "_l", "-k", "lazy_pgettext:1c,2", "-o", str(pot), "."], cwd=PROJECT_ROOT, check=True,
                   capture_output=True)
    with pot.open("rb") as f:
        return {_msgid(m) for m in read_po(f) if m.id}


def test_the_required_locales_are_shipped():
    assert REQUIRED_LOCALES <= set(DefaultConfig.LANGUAGES)
    assert DefaultConfig.BABEL_DEFAULT_LOCALE == "en"


@pytest.mark.parametrize("locale", CATALOG_LOCALES)
def test_catalog_is_complete(locale, marked_strings):
    catalog = read_catalog(locale)
    translated = {_msgid(m): m for m in catalog if m.id}
    missing = sorted(s for s in marked_strings
                     if s not in translated or not all(_forms(translated[s].string)))
    fuzzy = sorted(s for s, m in translated.items() if m.fuzzy)
    assert missing == [], f"{locale} misses translations"
    assert fuzzy == [], f"{locale} has fuzzy entries"
    assert not catalog.fuzzy, f"{locale}'s header is marked fuzzy"


@pytest.mark.parametrize("locale", CATALOG_LOCALES)
def test_translations_keep_the_placeholders(locale):
    wrong = []
    for message in read_catalog(locale):
        if not message.id:
            continue
        expected = set(PLACEHOLDER.findall(_msgid(message)[1]))
        for form in _forms(message.string):
            if form and set(PLACEHOLDER.findall(form)) != expected:
                wrong.append((_msgid(message), form))
    assert wrong == []


def test_there_is_something_to_translate(marked_strings):
    assert (None, "Your card was declined. Please try another card.") in marked_strings
    assert (None, "Pay %(price)s") in marked_strings
    # The same words meaning two things are two messages, each translated.
    assert {(None, "Support"), ("seller role", "Support")} <= marked_strings


def test_the_same_words_in_two_senses_are_translated_apart(app):
    with app.test_request_context(), force_locale("fr"):
        assert gettext("Support") == "Assistance"  # where a receipt says to ask for help
        assert str(ROLE_LABELS[SellerRole.SUPPORT]) == "Support"  # a team member's role
