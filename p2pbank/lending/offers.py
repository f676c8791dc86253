"""What matching works on and what it answers, as plain values: a lender's offer (from a
standing order or a manual commitment), a listing, the fills and skips with their
reasons, and the size of one fill. Pure: no framework, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class Offer:
    """A lender's standing order, as far as matching needs it.

    `min_rate_bps` maps each accepted grade to the lowest rate the lender takes for it;
    a grade that is not a key is not accepted. Terms are accepted in the closed range
    [min_term_months, max_term_months]. `placed_at` is anything orderable (a datetime in
    the services, an int in tests); it breaks ties between equal rates.
    """

    id: int
    lender_id: int
    placed_at: Any
    remaining_minor: int
    slice_minor: int
    max_per_borrower_minor: int
    min_rate_bps: Mapping[str, int]
    min_term_months: int
    max_term_months: int

    def __post_init__(self) -> None:
        require_int(self.remaining_minor, "remaining_minor", minimum=0)
        require_int(self.slice_minor, "slice_minor", minimum=1)
        require_int(self.max_per_borrower_minor, "max_per_borrower_minor", minimum=1)
        require_int(self.min_term_months, "min_term_months", minimum=1)
        require_int(self.max_term_months, "max_term_months", minimum=1)
        if self.max_per_borrower_minor < self.slice_minor:
            raise ValueError("max_per_borrower_minor must be at least one slice")
        if self.min_term_months > self.max_term_months:
            raise ValueError("min_term_months must not exceed max_term_months")
        for grade, rate in self.min_rate_bps.items():
            require_int(rate, f"min_rate_bps[{grade!r}]", minimum=0)

    def accepts_term(self, term_months: int) -> bool:
        return self.min_term_months <= term_months <= self.max_term_months


@dataclass(frozen=True, slots=True)
class Listing:
    """A borrower's loan request open for funding; `funded_minor` is already committed."""

    id: int
    borrower_id: int
    grade: str
    term_months: int
    amount_minor: int
    max_rate_bps: int
    funded_minor: int = 0

    def __post_init__(self) -> None:
        require_int(self.amount_minor, "amount_minor", minimum=1)
        require_int(self.term_months, "term_months", minimum=1)
        require_int(self.max_rate_bps, "max_rate_bps", minimum=0)
        require_int(self.funded_minor, "funded_minor", minimum=0)
        if self.funded_minor > self.amount_minor:
            raise ValueError("funded_minor must not exceed amount_minor")

    @property
    def open_minor(self) -> int:
        return self.amount_minor - self.funded_minor


class Fill(NamedTuple):
    """One lender's part of a listing, at the offer's own rate (pay-as-bid).

    A named tuple rather than a frozen dataclass: the batch makes hundreds of thousands,
    and a tuple is built about twice as fast while being just as immutable.
    """

    offer_id: int
    lender_id: int
    amount_minor: int
    rate_bps: int


class SkipReason(StrEnum):
    """Why an offer took no part in a listing; the value is the stable API code."""

    OFFER_EXHAUSTED = "offer_exhausted"
    OWN_LISTING = "own_listing"
    GRADE_NOT_ACCEPTED = "grade_not_accepted"
    TERM_NOT_ACCEPTED = "term_not_accepted"
    RATE_ABOVE_MAX = "rate_above_max"
    BORROWER_CAP_REACHED = "borrower_cap_reached"


@dataclass(frozen=True, slots=True)
class Skip:
    """An offer passed over for a listing, with a code for programs and text for people."""

    offer_id: int
    lender_id: int
    reason: SkipReason
    text: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    """What matching did to one listing: the fills taken and the offers skipped.

    `funded_minor` is the listing's total after this match (earlier commitments plus
    these fills). `skipped`, sorted by offer id, holds the offers the walk passed over
    (own listing, cap reached) and, when matched with `explain=True`, every other offer
    that could not fund this listing, with its reason. Eligible offers that were simply
    not reached because the listing filled first are not "skipped".
    """

    listing_id: int
    borrower_id: int
    amount_minor: int
    funded_minor: int
    fills: tuple[Fill, ...]
    skipped: tuple[Skip, ...]

    @property
    def filled_minor(self) -> int:
        """Money added by this match."""
        return sum(f.amount_minor for f in self.fills)

    @property
    def is_fully_funded(self) -> bool:
        return self.funded_minor == self.amount_minor

    @property
    def weighted_apr_bps(self) -> int | None:
        """Amount-weighted average rate of the fills, half-up to a whole bps; None if none."""
        total = self.filled_minor
        if total == 0:
            return None
        weighted = sum(f.amount_minor * f.rate_bps for f in self.fills)
        return (2 * weighted + total) // (2 * total)


def require_int(value: object, name: str, *, minimum: int) -> None:
    # Money and rates are exact integers; bool is an int subclass and is refused too.
    if type(value) is not int:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def fill_amount(remaining: int, open_minor: int, cap_room: int, slice_minor: int) -> int:
    """How much one offer puts into one listing; 0 when its cap leaves no whole slice.

    Taking what is left of the listing or of the offer is always allowed (that fill ends
    one of them); when the borrower cap is what binds, round down to whole slices.
    """
    amount = remaining if remaining < open_minor else open_minor
    if cap_room >= amount:
        return amount
    if cap_room <= 0:
        return 0
    return cap_room - cap_room % slice_minor
