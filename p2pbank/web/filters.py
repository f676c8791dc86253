"""Template filters: money and dates shown the same way on every page."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_currency, format_datetime

EXPONENTS = {"JPY": 0}


def money(minor: int | None, currency: str = "EUR") -> str:
    if minor is None:
        return ""
    exponent = EXPONENTS.get(currency, 2)
    # Decimal-free exact formatting: the integer is split, never divided as a float.
    from decimal import Decimal

    return format_currency(Decimal(minor).scaleb(-exponent), currency)


def when(value: datetime | None, fmt: str = "medium") -> str:
    return format_datetime(value, fmt) if value else ""


def register_filters(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(when, "when")
