"""Template filters: money and dates shown the same way on every page."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime, get_locale, gettext

from p2pbank.money_text import format_money


def money(minor: int | None, currency: str = "EUR") -> str:
    """An amount in the reader's language; the currency's own number of decimals."""
    if minor is None:
        return ""
    return format_money(minor, currency, str(get_locale() or "en"))


def when(value: datetime | None, fmt: str = "medium") -> str:
    return format_datetime(value, fmt) if value else ""


def messages(errors) -> list[str]:
    """A field's error messages, translated where the catalog knows them: a list of
    strings, or marshmallow's nested dict for list items ({0: ["..."]}). Use
    `errors[name] | messages | join(" ")`."""
    found: list[str] = []
    pending = [errors]
    while pending:
        item = pending.pop(0)
        if isinstance(item, str):
            found.append(gettext(item))
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return list(dict.fromkeys(found))  # the same message for two list items once


def register_filters(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(when, "when")
    app.add_template_filter(messages, "messages")
