from decimal import Decimal

import pytest

from buyflow.money import Money, UnknownCurrency, currency_exponent, format_money


@pytest.mark.parametrize("currency, exponent", [("JPY", 0), ("EUR", 2), ("usd", 2), ("KWD", 3)])
def test_currency_exponents_follow_iso_4217(currency, exponent):
    assert currency_exponent(currency) == exponent


def test_unknown_currency_is_refused():
    with pytest.raises(UnknownCurrency):
        Money(100, "XYZ")


def test_amounts_must_be_integers():
    with pytest.raises(TypeError):
        Money(19.99, "EUR")
    with pytest.raises(TypeError):
        Money(Decimal("19.99"), "EUR")


def test_decimal_value_uses_the_currency_exponent():
    assert Money(1999, "EUR").decimal == Decimal("19.99")
    assert Money(1999, "JPY").decimal == Decimal("1999")
    assert Money(1999, "KWD").decimal == Decimal("1.999")


def test_arithmetic_refuses_mixed_currencies():
    assert Money(100, "EUR") + Money(50, "EUR") == Money(150, "EUR")
    with pytest.raises(ValueError):
        Money(100, "EUR") + Money(100, "USD")


@pytest.mark.parametrize("amount, ratios", [(100, [1, 1, 1]), (1, [1, 1]), (1001, [3, 7]),
                                            (99999, [1, 2, 3, 4])])
def test_allocation_loses_and_gains_no_minor_unit(amount, ratios):
    parts = Money(amount, "EUR").allocate(ratios)
    assert sum(p.amount for p in parts) == amount
    assert max(p.amount for p in parts) - min(p.amount for p in parts) <= amount


def test_allocation_gives_remainders_to_the_first_parts():
    assert [p.amount for p in Money(100, "EUR").allocate([1, 1, 1])] == [34, 33, 33]


@pytest.mark.parametrize("money, locale, expected", [
    (Money(123456, "EUR"), "de", "1.234,56\xa0€"),
    (Money(123456, "EUR"), "en", "€1,234.56"),
    (Money(123456, "EUR"), "fr", "1\u202f234,56\xa0€"),
    (Money(1235, "JPY"), "ja", "￥1,235"),
    (Money(1234, "KWD"), "en", "KWD1.234"),
    (Money(5, "USD"), "en_US", "$0.05"),
])
def test_format_money_is_localized_with_the_currency_exponent(money, locale, expected):
    assert format_money(money, locale) == expected


@pytest.mark.parametrize("money, locale, text", [
    (Money(123456, "EUR"), "de", "1.234,56\xa0€"),
    (Money(1235, "JPY"), "ja", "￥1,235"),
    (Money(1235, "JPY"), "en", "¥1,235"),
    (Money(123456, "EUR"), "fr", "1\u202f234,56\xa0€"),
    (Money(123456, "EUR"), "ar", "\u200f1,234.56\xa0€"),
    (Money(123456, "ILS"), "he", "\u200f1,234.56\xa0\u200f₪"),
    (Money(1234567, "KWD"), "ar", "\u200f1,234.567\xa0د.ك.\u200f"),
    (Money(123456, "USD"), "pt_BR", "US$\xa01.234,56"),
])
def test_money_is_formatted_for_each_locale_with_the_currency_exponent(money, locale, text):
    assert format_money(money, locale) == text
