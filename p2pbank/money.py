"""Money as integer minor units plus a currency, and splitting that always adds up.

Pure standard library. Amounts are whole minor units (cents) so sums are exact;
floats, Decimals, bools and strings are refused at the door rather than rounded
somewhere deep inside a ledger. Splitting uses the largest-remainder method, so
the parts of an amount always add up to the amount, deterministically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_EXPONENT = 2
# ISO 4217 minor-unit exponents that differ from the default of 2.
_EXPONENTS: dict[str, int] = {"JPY": 0, "KRW": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3}
BPS_PER_WHOLE = 10_000


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies met in one operation."""


def exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (2 unless listed)."""
    return _EXPONENTS.get(currency, DEFAULT_EXPONENT)


def _require_int(value: object, name: str) -> None:
    # `type(...) is int` and not isinstance: bool is an int subclass and must not pass.
    if type(value) is not int:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")


def _check_currency(code: object) -> None:
    if not isinstance(code, str):
        raise TypeError(f"currency must be a str, not {type(code).__name__}")
    # Explicit A-Z: str.isupper() would accept letters such as "É".
    if len(code) != 3 or not all("A" <= ch <= "Z" for ch in code):
        raise ValueError(f"currency must be 3 uppercase letters A-Z, got {code!r}")


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` by the largest-remainder method.

    Each part gets the floor of its exact share total*w/sum(w); the units left over
    go one each to the parts with the largest remainders, ties to the lowest index.
    So the parts sum to `total`, each is within one unit of its exact share, and a
    zero weight gets zero. A negative total is split as the mirror of its absolute
    value, so allocate(-t, w) == [-p for p in allocate(t, w)].
    """
    _require_int(total, "total")
    ws = list(weights)
    if not ws:
        raise ValueError("weights must not be empty")
    for w in ws:
        _require_int(w, "weight")
        if w < 0:
            raise ValueError(f"weights must be non-negative, got {w}")
    weight_sum = sum(ws)
    if weight_sum == 0:
        raise ValueError("at least one weight must be positive")
    if total < 0:
        return [-part for part in allocate(-total, ws)]

    parts: list[int] = []
    remainders: list[int] = []
    for w in ws:
        part, remainder = divmod(total * w, weight_sum)
        parts.append(part)
        remainders.append(remainder)
    left_over = total - sum(parts)  # 0 <= left_over < number of positive remainders
    by_remainder = sorted(range(len(ws)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[:left_over]:
        parts[i] += 1
    return parts


def percent_of(amount: int, bps: int) -> int:
    """`bps` basis points of `amount` (amount * bps / 10 000), in whole minor units.

    Rounding: to the nearest unit; an exact half rounds away from zero
    (0.5 -> 1, -0.5 -> -1), computed on integers so no value is ever inexact.
    Used for fees: percent_of(10_000, 250) == 250 (2.5 % of 100.00).
    """
    _require_int(amount, "amount")
    _require_int(bps, "bps")
    product = amount * bps
    quotient, remainder = divmod(abs(product), BPS_PER_WHOLE)
    if 2 * remainder >= BPS_PER_WHOLE:
        quotient += 1
    return quotient if product >= 0 else -quotient


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of integer minor units in one currency; immutable and hashable.

    Equality compares amount and currency (1 EUR != 1 USD); ordering and
    arithmetic across currencies raise CurrencyMismatch. Truthiness raises
    TypeError: write `m.is_zero()` so a zero amount is never mistaken for "absent".
    """

    minor: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        _require_int(self.minor, "minor")
        _check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def is_zero(self) -> bool:
        return self.minor == 0

    def is_positive(self) -> bool:
        return self.minor > 0

    def is_negative(self) -> bool:
        return self.minor < 0

    def __bool__(self) -> bool:
        raise TypeError("the truth value of Money is ambiguous; use is_zero()")

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not mix")

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.minor < other.minor

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.minor <= other.minor

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.minor > other.minor

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.minor >= other.minor

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split in proportion to `weights`; see the module function `allocate`."""
        return [Money(part, self.currency) for part in allocate(self.minor, weights)]

    def split(self, n: int) -> list[Money]:
        """Split into `n` parts as equal as possible, larger parts first."""
        _require_int(n, "n")
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        return self.allocate([1] * n)

    def percent(self, bps: int) -> Money:
        """`bps` basis points of this amount, rounded as `percent_of` documents."""
        return Money(percent_of(self.minor, bps), self.currency)

    def __str__(self) -> str:
        places = exponent(self.currency)
        sign = "-" if self.minor < 0 else ""
        whole, fraction = divmod(abs(self.minor), 10**places)
        if places == 0:
            return f"{sign}{whole} {self.currency}"
        return f"{sign}{whole}.{fraction:0{places}d} {self.currency}"
