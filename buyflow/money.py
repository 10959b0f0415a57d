"""Money: integer amounts in minor units plus an ISO 4217 code. Never floats.

The exponent table is ISO 4217's (and the provider's: Stripe treats the same currencies
as zero- and three-decimal). Only currencies listed here can be sold in.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale
from babel.numbers import parse_pattern

from .compact_locales import compact_locale

# ISO 4217 minor-unit exponents of the currencies Buyflow accepts.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0,
    "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2,
    "ILS": 2, "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2,
    "MYR": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "RON": 2, "SAR": 2,
    "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2,
    "VND": 0, "XAF": 0, "XOF": 0, "ZAR": 2,
}


class UnknownCurrency(ValueError):
    """Raised for a currency code that is not in the table."""


def currency_exponent(currency: str) -> int:
    """The number of minor-unit digits of ``currency`` (JPY 0, EUR 2, KWD 3)."""
    try:
        return CURRENCY_EXPONENTS[currency.upper()]
    except (KeyError, AttributeError):
        raise UnknownCurrency(currency) from None


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units of one currency."""

    amount: int
    currency: str

    def __post_init__(self):
        if type(self.amount) is not int:
            raise TypeError("Money amounts are integers in minor units")
        currency_exponent(self.currency)  # validates
        object.__setattr__(self, "currency", self.currency.upper())

    def __add__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if type(factor) is not int:
            raise TypeError("Money can only be multiplied by an integer")
        return Money(self.amount * factor, self.currency)

    def _check_same_currency(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError("Cannot combine amounts in different currencies")

    @property
    def decimal(self) -> Decimal:
        """The amount in major units, exactly (1999 EUR cents -> Decimal('19.99'))."""
        return Decimal(self.amount).scaleb(-currency_exponent(self.currency))

    def allocate(self, ratios: list[int]) -> list[Money]:
        """Split into parts proportional to ``ratios`` so that the parts add up exactly.

        Remainders go one minor unit at a time to the first parts.
        """
        if not ratios or any(r < 0 for r in ratios) or sum(ratios) == 0:
            raise ValueError("Ratios must be non-negative and not all zero")
        total = sum(ratios)
        parts = [self.amount * r // total for r in ratios]
        for i in range(self.amount - sum(parts)):
            parts[i % len(parts)] += 1
        return [Money(p, self.currency) for p in parts]


def format_money(money: Money, locale: str | Locale) -> str:
    """The amount formatted for ``locale`` with exactly the currency's exponent digits
    (``1.234,56 €`` in de, ``￥1,235`` in ja)."""
    return _formatted(money, str(locale))


# The same prices are shown again and again (a product's, on every page of its flow).
@functools.lru_cache(maxsize=1024)
def _formatted(money: Money, locale: str) -> str:
    return format_money_in(money, compact_locale(locale))


def format_money_in(money: Money, loc: Locale) -> str:
    """``format_money`` with Babel's locale ``loc`` itself (its full data, or a compact
    one: ``compact_locales.py``)."""
    exponent = currency_exponent(money.currency)
    pattern = copy.copy(parse_pattern(loc.currency_formats["standard"]))
    pattern.frac_prec = (exponent, exponent)
    return pattern.apply(money.decimal, loc, currency=money.currency, currency_digits=False)
