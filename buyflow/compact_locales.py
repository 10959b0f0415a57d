"""The few CLDR facts that prices, the flow's dates and text direction are written with,
per shipped locale, kept in ``compact_locales.json`` beside this module.

Babel formats from a ``Locale``'s data, and loading it for any one locale loads its
global tables (territories' currencies, zone aliases, likely subtags: 2.5 MiB) and the
locale's whole tree (root and the locale, 1 to 2.5 MiB more per language) into the
process for good. Every flow page shows prices in its buyer's language, so a web
worker serving the 16 shipped languages would hold about 20 MiB of CLDR to write
amounts and a date. ``compact_locale`` gives Babel a ``Locale`` whose data is only the
facts below (about 2 kB a language), so Babel's own formatting runs on them, the same
functions with the same results.

The file is made from Babel's data by ``python -m buyflow.compact_locales`` (for
``DefaultConfig.LANGUAGES``); ``tests/test_compact_locales.py`` checks that it is what
Babel says today and that every price and date formats as with the full data. A locale
it does not hold (one added to LANGUAGES before the file is remade) gets Babel's full
data.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from babel import Locale
from babel.core import parse_locale
from babel.localedata import LocaleDataDict

FACTS_FILE = Path(__file__).with_name("compact_locales.json")


def facts_of(code: str, currencies) -> dict:
    """What a compact locale holds for ``code``, read from Babel's full data: the
    standard currency pattern, the Latin-digit number symbols, the symbols of
    ``currencies``, the long date pattern, the months' names as a date writes them, and
    the character order (left to right or right to left); and Babel's identifier of it."""
    locale = Locale.parse(code)
    return {
        "identifier": str(locale),  # Babel's own name for it: zh_CN is zh_Hans_CN
        "character_order": locale.character_order,
        "currency_pattern": locale.currency_formats["standard"].pattern,
        "number_symbols": dict(locale.number_symbols["latn"]),
        "currency_symbols": {currency: locale.currency_symbols.get(currency, currency)
                             for currency in sorted(currencies)},
        "long_date_pattern": locale.date_formats["long"].pattern,
        "months": [locale.months["format"]["wide"][month] for month in range(1, 13)],
    }


class CompactLocale(Locale):
    """A Babel ``Locale`` whose CLDR data is its compact facts only. Babel's functions
    read a locale's data through ``Locale._data``, which this serves; a formatting that
    needs a fact the file lacks raises KeyError (the tests format every price and date
    the product shows)."""

    def __init__(self, facts: dict):
        super().__init__(*parse_locale(facts["identifier"]))
        self._compact = LocaleDataDict({
            "character_order": facts["character_order"],
            "currency_formats": {"standard": facts["currency_pattern"]},
            "number_symbols": {"latn": facts["number_symbols"]},
            "currency_symbols": facts["currency_symbols"],
            # Babel looks the currency's name up for every currency pattern but writes
            # it only for "¤¤¤", which no standard pattern has (the tests check).
            "currency_names": {}, "currency_names_plural": {},
            "date_formats": {"long": facts["long_date_pattern"]},
            "months": {"format": {"wide": dict(enumerate(facts["months"], start=1))}},
        })

    @property
    def _data(self) -> LocaleDataDict:
        return self._compact


@cache
def _facts() -> dict:
    return json.loads(FACTS_FILE.read_text(encoding="utf-8"))


@cache
def compact_locale(code: str) -> Locale:
    """The locale ``code`` ("fr", "pt_BR") for Babel's number and date functions: a
    CompactLocale when the file holds it, else Babel's full one."""
    facts = _facts().get(code)
    return CompactLocale(facts) if facts is not None else Locale.parse(code)


def write_facts() -> None:
    """Remake FACTS_FILE from Babel for DefaultConfig.LANGUAGES and every currency."""
    from .config import DefaultConfig
    from .money import CURRENCY_EXPONENTS

    facts = {code: facts_of(code, CURRENCY_EXPONENTS) for code in DefaultConfig.LANGUAGES}
    FACTS_FILE.write_text(json.dumps(facts, ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")


if __name__ == "__main__":
    write_facts()
