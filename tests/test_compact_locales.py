"""The compact CLDR facts (buyflow/compact_locales.py): the file is what Babel says today,
every price and date the flow writes comes out as with Babel's full data, and writing
them loads none of that data."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime

import pytest
from babel import Locale
from babel.dates import format_date

from buyflow import PROJECT_ROOT
from buyflow.compact_locales import FACTS_FILE, CompactLocale, compact_locale, facts_of
from buyflow.config import DefaultConfig
from buyflow.i18n import long_date
from buyflow.money import CURRENCY_EXPONENTS, Money, format_money_in
from tests.test_security import app_with

LANGUAGES = DefaultConfig.LANGUAGES
# Amounts in minor units: nothing, the smallest, a price, one that needs grouping twice,
# a negative one (a debit).
AMOUNTS = [0, 1, 1999, 123456789, -2500]


def test_the_file_holds_what_babel_says_for_every_shipped_language():
    written = json.loads(FACTS_FILE.read_text(encoding="utf-8"))
    wanted = {code: facts_of(code, CURRENCY_EXPONENTS) for code in LANGUAGES}
    assert written == wanted, "run `python -m buyflow.compact_locales` to remake the file"


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_price_is_written_as_with_babels_full_data(code):
    compact, full = compact_locale(code), Locale.parse(code)
    assert isinstance(compact, CompactLocale)
    for currency in CURRENCY_EXPONENTS:
        for amount in AMOUNTS:
            money = Money(amount, currency)
            assert format_money_in(money, compact) == format_money_in(money, full), (
                code, currency, amount)


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_long_date_and_the_direction_are_as_with_babels_full_data(code):
    compact, full = compact_locale(code), Locale.parse(code)
    for month in range(1, 13):
        day = date(2026, month, 4)
        assert format_date(day, "long", locale=compact) == format_date(day, "long",
                                                                       locale=full)
    assert compact.character_order == full.character_order


def test_a_long_date_is_the_day_in_the_services_time_zone(app, tmp_path):
    late_in_utc = datetime(2026, 12, 4, 3, 30, tzinfo=UTC)
    pacific = app_with(app, tmp_path, BABEL_DEFAULT_TIMEZONE="America/Los_Angeles")
    with pacific.test_request_context():
        assert long_date(late_in_utc, "en") == "December 3, 2026"
        assert long_date(late_in_utc, "fr") == "3 décembre 2026"
    with app.test_request_context():
        assert long_date(late_in_utc, "de") == "4. Dezember 2026"


def test_a_language_the_file_lacks_gets_babels_full_data():
    assert "fr_CA" not in json.loads(FACTS_FILE.read_text(encoding="utf-8"))
    assert not isinstance(compact_locale("fr_CA"), CompactLocale)
    assert format_money_in(Money(1999, "CAD"), compact_locale("fr_CA")) == "19,99\xa0$"


def test_writing_prices_dates_and_directions_loads_none_of_babels_data(app):
    """In a fresh process, every shipped language's prices, long dates and direction
    leave Babel's data unloaded (each language's would stay in every web worker, 1 to
    5 MiB each)."""
    program = textwrap.dedent(f"""
        from datetime import UTC, datetime
        import babel.core, babel.localedata
        from buyflow import create_app
        from buyflow.i18n import long_date, text_direction
        from buyflow.money import CURRENCY_EXPONENTS, Money, format_money
        app = create_app(test_config={{"SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "x", "REDIS_URL": None}}, instance_path={str(app.instance_path)!r})
        with app.test_request_context():
            for code in app.config["LANGUAGES"]:
                text_direction(code)
                long_date(datetime(2026, 12, 4, tzinfo=UTC), code)
                for currency in CURRENCY_EXPONENTS:
                    format_money(Money(1999, currency), code)
        print(sorted(babel.localedata._cache), babel.core._global_data is None)
    """)
    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[] True"
