"""Which language a request is answered in."""

from __future__ import annotations

from flask import current_app, g, request


def supported_locale(requested: str | None) -> str | None:
    """``requested`` (like "fr" or "fr-CA") as one of the shipped locales, or None."""
    if not requested:
        return None
    supported = current_app.config["LANGUAGES"]
    wanted = requested.replace("-", "_")
    if wanted in supported:
        return wanted
    language = wanted.split("_")[0].lower()
    return language if language in supported else None


def negotiate_locale(requested: str | None, seller_default: str | None = None) -> str:
    """The explicit request first, then the browser's languages, then the seller's
    default, then the service's."""
    return (
        supported_locale(requested)
        or request.accept_languages.best_match(current_app.config["LANGUAGES"])
        or supported_locale(seller_default)
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_locale() -> str:
    """Flask-Babel's locale selector: a view may decide first by setting ``g.locale``."""
    return g.get("locale") or negotiate_locale(request.args.get("locale"))
