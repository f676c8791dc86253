"""Integer ids in URLs, bounded by the columns they are looked up in.

Werkzeug's `int` converter takes any number of digits; a number past the database
column's range then fails inside the query (PostgreSQL: "integer out of range") and
answered 500. Bounded here, such a URL simply matches no route: a quiet 404.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

INT_MAX = 2**31 - 1  # PostgreSQL integer: every plain id column
BIGINT_MAX = 2**63 - 1  # PostgreSQL bigint (and SQLite's integer)


class IdConverter(IntegerConverter):
    """`<int:...>`: a non-negative integer that fits a 32-bit id column."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


class BigIdConverter(IntegerConverter):
    """`<bigint:...>`: a non-negative integer that fits a 64-bit column (log sequences)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", BIGINT_MAX)
        super().__init__(map, *args, **kwargs)


def install(app: Flask) -> None:
    """Replace `int` and add `bigint`; must run before any blueprint is registered."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["bigint"] = BigIdConverter
