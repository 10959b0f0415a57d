"""Card expiry dates in localstripe as in Stripe, for the development shim.

localstripe's fake card field sends the year typed as "20" + what was typed, so "2034"
became "202034"; its API then refused the card with ``invalid_expiry_year`` (a bad month
with no code at all), which the flow could only show as a decline. ``install()`` patches
the localstripe of this process (never its files), after ``localstripe_shim.install()``
and before ``localstripe.server.start()``. Afterwards:

- the fake Stripe.js it serves ends with ``static/card-expiry.js``, after whatever else
  the shim appends: its card field takes the year as "34" or "2034";
- a card payment method whose expiry month is not 1 to 12, whose year is no year of the
  next 50, or whose expiry is past, is refused as Stripe refuses it: HTTP 402, a
  ``card_error`` with code ``invalid_expiry_month`` or ``invalid_expiry_year``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

SCRIPT = Path(__file__).with_name("static") / "card-expiry.js"
STRIPE_JS_PATH = "/js.stripe.com/v3/"
YEARS_AHEAD = 50


def install() -> None:
    """Apply both patches to the localstripe of this process."""
    from localstripe import resources, server

    server.app.middlewares.insert(0, stripe_js_middleware())
    original = resources.PaymentMethod.__init__

    def init(self, type=None, card=None, **kwargs):
        if type == "card" and isinstance(card, dict):
            expiry_refusal(card.get("exp_month"), card.get("exp_year"))
        original(self, type=type, card=card, **kwargs)

    resources.PaymentMethod.__init__ = init


def stripe_js_middleware():
    """An aiohttp middleware appending ``SCRIPT`` to the fake Stripe.js as served (the
    outermost one, so that it ends what the others made)."""
    from aiohttp import web

    @web.middleware
    async def middleware(request, handler):
        response = await handler(request)
        if (request.method == "GET" and request.path == STRIPE_JS_PATH
                and isinstance(response, web.Response) and response.status == 200):
            response.text = response.text + "\n" + SCRIPT.read_text()
        return response

    return middleware


def _integer(value) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def expiry_refusal(month, year, now: datetime | None = None) -> None:
    """Raise localstripe's UserError as Stripe answers an invalid expiry (402
    ``card_error``, ``invalid_expiry_month`` or ``invalid_expiry_year``); nothing for a
    valid one. A two-digit year is this century's, as Stripe takes it."""
    from localstripe.resources import UserError

    now = now or datetime.now(UTC)
    month, year = _integer(month), _integer(year)
    if year is not None and 0 <= year < 100:
        year += 2000
    if month is None or not 1 <= month <= 12:
        code, param, message = ("invalid_expiry_month", "exp_month",
                                "Your card's expiration month is invalid.")
    elif year is None or not now.year <= year <= now.year + YEARS_AHEAD:
        code, param, message = ("invalid_expiry_year", "exp_year",
                                "Your card's expiration year is invalid.")
    elif (year, month) < (now.year, now.month):
        code, param, message = ("invalid_expiry_month", "exp_month",
                                "Your card's expiration month is invalid.")
    else:
        return
    error = UserError(402, message, {"code": code, "param": param})
    error.body["error"]["type"] = "card_error"
    raise error
