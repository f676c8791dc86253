"""The CHECK constraints every crowdfunding model writes the same way: a column holds one
of an enum's values."""

from __future__ import annotations


def sql_list(values) -> str:
    return ",".join(f"'{v}'" for v in values)
