"""Every shipped catalog translates every marked string, with no fuzzy entry."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from buyflow import PROJECT_ROOT
from buyflow.config import DefaultConfig

CATALOG_LOCALES = [locale for locale in DefaultConfig.LANGUAGES if locale != "en"]


@pytest.fixture(scope="module")
def marked_strings(tmp_path_factory) -> set[str]:
    """What the code marks for translation now (a fresh extraction, not the .pot on disk)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([pybabel, "extract", "-F", "babel.cfg", "-k", "lazy_gettext",
                    "-k", "_l", "-o", str(pot), "."], cwd=PROJECT_ROOT, check=True,
                   capture_output=True)
    with pot.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


@pytest.mark.parametrize("locale", CATALOG_LOCALES)
def test_catalog_is_complete(locale, marked_strings):
    path = PROJECT_ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f)
    translated = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}
    missing = sorted(s for s in marked_strings
                     if s not in translated or not translated[s].string)
    fuzzy = sorted(s for s, m in translated.items() if m.fuzzy)
    assert missing == [], f"{locale} misses translations"
    assert fuzzy == [], f"{locale} has fuzzy entries"


def test_there_is_something_to_translate(marked_strings):
    assert "Your card was declined. Please try another card." in marked_strings
