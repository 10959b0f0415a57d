"""Which language a request is answered in, what templates need to know about it, and
times written the way its locale writes them, with their zone."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from flask import Flask, current_app, g, has_app_context, request
from flask_babel import get_locale, get_timezone, get_translations, to_user_timezone

from .compact_locales import compact_locale


def supported_locale(requested: str | None) -> str | None:
    """``requested`` (like "fr", "fr-CA", "pt-br") as one of the shipped locales, or None.

    An exact match wins; then the bare language ("fr-CA" -> fr); then the first shipped
    locale of that language ("pt-PT" -> pt_BR: closer for its reader than the fallback).
    """
    if not requested:
        return None
    supported = current_app.config["LANGUAGES"]
    wanted = requested.replace("-", "_").lower()
    language = wanted.split("_")[0]
    for code in supported:
        if code.lower() == wanted:
            return code
    for code in supported:
        if code.lower() == language:
            return code
    for code in supported:
        if code.lower().split("_")[0] == language:
            return code
    return None


def negotiate_locale(requested: str | None, seller_default: str | None = None) -> str:
    """The explicit request first, then the browser's languages, then the seller's
    default, then the service's."""
    return (
        supported_locale(requested)
        or _browser_locale()
        or supported_locale(seller_default)
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def _browser_locale() -> str | None:
    """The first of the browser's languages, by preference, that we ship, or None."""
    for requested, _quality in request.accept_languages:
        locale = supported_locale(requested)
        if locale:
            return locale
    return None


def select_locale() -> str:
    """Flask-Babel's locale selector: a view may decide first by setting ``g.locale``."""
    return g.get("locale") or negotiate_locale(request.args.get("locale"))


@cache
def text_direction(locale: str) -> str:
    """"rtl" for locales written right to left (ar, he), else "ltr" — from CLDR's
    character order, not from a list of our own."""
    order = compact_locale(locale).character_order
    return "rtl" if order == "right-to-left" else "ltr"


# Each shipped locale (config LANGUAGES) named in its own language, as CLDR names it
# (Babel's ``Locale.display_name``, first letter capitalised; tests/test_i18n.py checks
# they agree). Written out because the language menu is on every flow page, and asking
# Babel would load the locale data of all of them into every web worker (about 15 MiB).
LANGUAGE_NAMES = {
    "en": "English", "fr": "Français", "de": "Deutsch", "es": "Español",
    "it": "Italiano", "pt_BR": "Português (Brasil)", "nl": "Nederlands", "pl": "Polski",
    "sv": "Svenska", "tr": "Türkçe", "ja": "日本語", "ko": "한국어",
    "zh_CN": "中文 (简体, 中国)", "ru": "Русский", "ar": "العربية", "he": "עברית",
}


@cache
def language_name(locale: str) -> str:
    """The locale's name in its own language, first letter capitalised where the script
    has capitals ("Français", "Deutsch", "日本語", "العربية"): from LANGUAGE_NAMES, else
    (a locale added to LANGUAGES without its name there) from its CLDR data."""
    if locale in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[locale]
    name = Locale.parse(locale).display_name
    return name[:1].upper() + name[1:]


def language_choices() -> list[tuple[str, str]]:
    """Every shipped locale as (code, its own name), in configuration order."""
    return [(code, language_name(code)) for code in current_app.config["LANGUAGES"]]


def locale_context() -> dict:
    """Template variables every page uses for its <html> element: ``html_lang`` (BCP 47,
    "pt-BR") and ``text_direction`` ("ltr" or "rtl") of the locale the page speaks."""
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    return {"html_lang": locale.replace("_", "-"), "text_direction": text_direction(locale)}


def current_translations():
    """Flask-Babel's translations for the locale in force (``get_translations``), looked
    up once per locale and app context rather than at every string: a page's template
    asks for dozens, and each lookup costs Flask-Babel about 20 µs. The locale in force
    is Flask-Babel's own (``get_locale``: a view's choice, ``force_locale`` while a mail
    is rendered, ``refresh``), so a change of it is a new lookup."""
    if not has_app_context():
        return get_translations()
    locale = get_locale()
    cached = g.get("_buyflow_translations")
    if cached is None or cached[0] is not locale:
        cached = g._buyflow_translations = (locale, get_translations())
    return cached[1]


def _install_template_gettext(app: Flask) -> None:
    """The templates' ``_``, ``gettext``, ``ngettext``, ``pgettext`` and ``npgettext``,
    as Flask-Babel installs them (new-style: ``%(name)s`` filled, autoescaped), on
    ``current_translations``."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: current_translations().ugettext(string),
        ngettext=lambda singular, plural, num: current_translations().ungettext(
            singular, plural, num),
        pgettext=lambda context, string: current_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, num: current_translations().unpgettext(
            context, singular, plural, num),
        newstyle=True,
    )


def init_app(app: Flask) -> None:
    """Give every template the page's language and direction, and its strings through
    ``current_translations`` (after Flask-Babel's ``init_app``, whose callables these
    replace)."""
    app.context_processor(locale_context)
    _install_template_gettext(app)


def long_date(moment: datetime, locale: str) -> str:
    """The day of ``moment`` in the service's time zone, as ``locale`` writes a date in
    full ("December 4, 2026", "4 décembre 2026"), from its compact CLDR facts."""
    return babel_format_date(to_user_timezone(moment).date(), "long",
                             locale=compact_locale(locale))


def zoned_datetime(moment: datetime, locale: str | Locale) -> str:
    """``moment`` as ``locale`` writes a date and a time to the minute, followed (or, in
    Chinese, preceded) by the time zone it is shown in — the service's
    (``BABEL_DEFAULT_TIMEZONE``, UTC unless set): "Mar 4, 2025, 12:30 PM UTC"."""
    loc = Locale.parse(locale)
    time = loc.time_formats["short"].pattern
    # Where the zone goes is where the locale's long time format, which has one, puts it.
    time = f"z {time}" if loc.time_formats["long"].pattern.startswith("z") else f"{time} z"
    pattern = (loc.datetime_formats["medium"]
               .replace("{0}", time).replace("{1}", loc.date_formats["medium"].pattern))
    return babel_format_datetime(moment, pattern, tzinfo=get_timezone(), locale=loc)
