"""Digits as people type them on a keyboard: ASCII 0-9 only. Pure standard library.

`str.isdigit()` and `str.isdecimal()` also say yes to "²", "١" and hundreds of other
Unicode digits; `int()` then refuses some ("²": a 500 where a 400 was due) and reads
others as numbers ("١" is 1), so a check that feeds `int()` uses this one instead.
"""

from __future__ import annotations

_ASCII_DIGITS = frozenset("0123456789")


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty string of the ASCII digits 0-9 and nothing else."""
    return bool(text) and set(text) <= _ASCII_DIGITS
