"""A notification as a sentence in the reader's language.

Used by the pages and the API (the request's language) and by the mail work (the
recipient's saved language), so all three say the same thing. Reads the same compiled
catalog as the pages, without Flask: the mail work runs outside any request.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

from p2pbank.money import exponent
from p2pbank.notifications import kinds

CATALOGS = Path(__file__).resolve().parent.parent / "translations"
LOCALES = ("en", "nl")
DEFAULT_LOCALE = "en"


@lru_cache(maxsize=8)
def catalog(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(CATALOGS), [locale], "messages")


def locale_for(saved: str | None) -> str:
    return saved if saved in LOCALES else DEFAULT_LOCALE


def _shown(params: dict[str, object], locale: str) -> dict[str, object]:
    """Money, percentages and dates as the reader writes them; everything else as it is."""
    shown: dict[str, object] = dict(params)
    currency = str(params.get("currency", "EUR"))
    for key, value in params.items():
        if key.endswith("_minor") and isinstance(value, int):
            amount = Decimal(value).scaleb(-exponent(currency))
            shown[key.removesuffix("_minor")] = format_currency(amount, currency, locale=locale)
        elif key.endswith("_bps") and isinstance(value, int):
            percent = Decimal(value).scaleb(-2)
            shown[key.removesuffix("_bps")] = format_decimal(percent, locale=locale)
        elif key.endswith("_on") and isinstance(value, str):
            with suppress(ValueError):  # not a date after all: shown as it is
                shown[key] = format_date(date.fromisoformat(value), "long", locale=locale)
    return shown


def gettext_in(locale: str, message: str, translations: NullTranslations | None = None) -> str:
    return (translations or catalog(locale_for(locale))).gettext(message)


def render(
    kind: str,
    params: dict[str, object],
    locale: str | None,
    translations: NullTranslations | None = None,
) -> str:
    """The notification's sentence in `locale`; a kind no longer known reads as its name."""
    loc = locale_for(locale)
    found = kinds.KINDS.get(kind)
    if found is None:
        return kind
    shown = _shown(params, loc)
    # A translation that lost a placeholder falls back to English, a row with missing
    # parameters to the kind's name: a page never fails over one notification.
    for text in (gettext_in(loc, found.text, translations), found.text):
        try:
            return text % shown
        except (KeyError, TypeError, ValueError):
            continue
    return kind
