"""What every lending model shares: the lifecycles as transition tables that raise
InvalidState, and the CHECK constraint listing a status column's allowed values."""

from __future__ import annotations

from p2pbank.errors import InvalidState


def sql_in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


def move(kind: str, table: dict, current: str, target: str) -> None:
    if target not in table[current]:
        raise InvalidState(f"A {kind} that is {current} cannot become {target}.")
