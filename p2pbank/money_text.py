"""Amounts as people read and type them: parse typed text, format for messages and for
pages in the reader's language. Exact: minor units are split into digits, never divided
as a float. One place for every way an amount becomes text and back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale
from babel.numbers import get_currency_symbol, get_decimal_symbol, get_group_symbol

from p2pbank.money import exponent

_AMOUNT = re.compile(r"^(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:[.](?P<fraction>\d+))?$")


def parse_amount(text: str, currency: str = "EUR") -> int:
    """'1,234.5' -> 123450 for EUR. Exact: digits only, never through a float. Raises
    ValueError for signs, letters, too many decimals or an empty string."""
    cleaned = text.strip().replace("€", "").replace(" ", "").replace("\u00a0", "")
    match = _AMOUNT.match(cleaned)
    if not match:
        raise ValueError("not an amount")
    places = exponent(currency)
    fraction = match.group("fraction") or ""
    if len(fraction) > places:
        raise ValueError(f"at most {places} decimals")
    whole = int(match.group("whole").replace(",", ""))
    return int(whole * 10**places + int(fraction.ljust(places, "0") or "0"))


def format_minor(amount_minor: int, currency: str = "EUR") -> str:
    """'€10.00'-style text for messages (EUR) or '10.00 USD' for other currencies."""
    places = exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**places)
    grouped = f"{whole:,}"
    number = f"{grouped}.{fraction:0{places}d}" if places else grouped
    return f"{sign}€{number}" if currency == "EUR" else f"{sign}{number} {currency}"


@dataclass(frozen=True)
class _Shape:
    """What a locale's standard currency pattern makes of any amount in one currency: the
    text around the number for a positive and a negative amount, and the symbols."""

    prefixes: tuple[str, str]
    suffixes: tuple[str, str]
    decimal: str
    group: str
    sizes: tuple[int, int]
    min_digits: int


@lru_cache(maxsize=256)
def _shape(locale_name: str, currency: str) -> _Shape:
    locale = Locale.parse(locale_name)
    pattern = locale.currency_formats["standard"]
    symbol = get_currency_symbol(currency, locale)

    def around(text: str) -> str:
        text = text.replace("¤¤", currency.upper()).replace("¤", symbol)
        return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", text)

    return _Shape(
        prefixes=(around(pattern.prefix[0]), around(pattern.prefix[1])),
        suffixes=(around(pattern.suffix[0]), around(pattern.suffix[1])),
        decimal=get_decimal_symbol(locale),
        group=get_group_symbol(locale),
        sizes=(pattern.grouping[0], pattern.grouping[1]),
        min_digits=pattern.int_prec[0],
    )


def format_money(amount_minor: int, currency: str, locale_name: str) -> str:
    """The amount as the locale's standard currency format shows it ('€1,234.50' in en,
    '€ 1.234,50' in nl): the same text as Babel's `format_currency`, with the locale's
    pattern read once per locale and currency instead of once per amount (a page shows
    hundreds of amounts)."""
    shape = _shape(locale_name, currency)
    places = exponent(currency)
    negative = amount_minor < 0
    whole, fraction = divmod(abs(amount_minor), 10**places)
    digits = str(whole).rjust(shape.min_digits, "0")
    size, groups = shape.sizes[0], []
    while len(digits) > size:
        groups.append(digits[-size:])
        digits = digits[:-size]
        size = shape.sizes[1]
    number = shape.group.join([digits, *reversed(groups)])
    if places:
        number += shape.decimal + str(fraction).rjust(places, "0")
    return shape.prefixes[negative] + number + shape.suffixes[negative]
