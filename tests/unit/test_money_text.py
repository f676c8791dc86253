"""Amounts as text: the page formatter gives exactly Babel's text, for every amount."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency
from hypothesis import given
from hypothesis import strategies as st

from p2pbank.money import exponent
from p2pbank.money_text import format_money

# Not de_CH: its group symbol is an apostrophe, which Babel's quote handling drops from the
# number ("1000000.00"); the formatter keeps it (see the known texts).
LOCALES = ["en", "nl", "de", "fr", "en_IN", "sv", "pl"]
CURRENCIES = ["EUR", "USD", "GBP", "CHF", "JPY", "KRW", "ISK", "BHD", "KWD", "OMR"]


def babel_text(minor: int, currency: str, locale: str) -> str:
    return format_currency(Decimal(minor).scaleb(-exponent(currency)), currency, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("currency", CURRENCIES)
@given(minor=st.integers(min_value=-(10**15), max_value=10**15))
def test_same_text_as_babel(locale: str, currency: str, minor: int) -> None:
    assert format_money(minor, currency, locale) == babel_text(minor, currency, locale)


@pytest.mark.parametrize(
    ("minor", "locale", "text"),
    [
        (123450, "en", "€1,234.50"),
        (123450, "nl", "€\xa01.234,50"),
        (-5, "en", "-€0.05"),
        (-5, "nl", "€\xa0-0,05"),
        (0, "en", "€0.00"),
        (100000000, "en_IN", "€10,00,000.00"),
        (100000000, "de_CH", "EUR\xa01'000'000.00"),
    ],
)
def test_known_texts(minor: int, locale: str, text: str) -> None:
    assert format_money(minor, "EUR", locale) == text
