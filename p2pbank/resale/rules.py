"""Secondary-market rules; pure, standard library only.

A lender offers a whole loan part at a premium or discount on its outstanding principal,
between -20 % and +10 % (the seller enters a percent, so the offer stays right as
instalments come in). The buyer pays that price plus the interest accrued on the part
and not yet paid, shown on its own line; the platform keeps a 1 % fee of what the buyer
pays, taken from the seller's proceeds and shown to both before they commit.

Accrued interest is what the buyer takes over: the unpaid interest of instalments
already due, and the share of the next instalment's interest for the days of its period
already passed (days elapsed / days in the period, half up to the cent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from p2pbank.money import percent_of


@dataclass(frozen=True, slots=True)
class ResalePolicy:
    min_premium_bps: int = -2_000  # at most 20 % below the outstanding principal
    max_premium_bps: int = 1_000  # at most 10 % above it
    fee_bps: int = 100  # 1 % of what the buyer pays, from the seller's proceeds
    # Auto-invest orders buy only parts that are current, at par or below.
    auto_max_premium_bps: int = 0


POLICY = ResalePolicy()

SELLABLE_LOAN_STATES = ("active", "late")


@dataclass(frozen=True, slots=True)
class Quote:
    """Everything a buyer and a seller see before they commit, in cents."""

    outstanding_minor: int  # principal still owed on the part
    premium_bps: int
    premium_minor: int  # negative for a discount
    accrued_minor: int  # interest earned and not yet paid, passed on to the buyer
    fee_minor: int

    @property
    def price_minor(self) -> int:
        """The price of the principal: outstanding plus premium (minus discount)."""
        return self.outstanding_minor + self.premium_minor

    @property
    def total_minor(self) -> int:
        """What the buyer pays."""
        return self.price_minor + self.accrued_minor

    @property
    def seller_gets_minor(self) -> int:
        return self.total_minor - self.fee_minor


def premium_problem(premium_bps: int, policy: ResalePolicy = POLICY) -> str | None:
    """Why a premium is out of bounds (None when it is fine)."""
    if premium_bps < policy.min_premium_bps:
        return "A discount of at most 20 % is allowed."
    if premium_bps > policy.max_premium_bps:
        return "A premium of at most 10 % is allowed."
    return None


def listing_problem(loan_status: str, outstanding_minor: int) -> str | None:
    """Why a part cannot be offered (None when it can): only parts of running loans with
    principal still out; defaulted and repaid loans are not for sale."""
    if loan_status == "defaulted":
        return "A part of a defaulted loan cannot be sold."
    if loan_status not in SELLABLE_LOAN_STATES or outstanding_minor <= 0:
        return "Only parts of running loans with principal still owed can be sold."
    return None


def _half_up(value: Fraction) -> int:
    return int((2 * value.numerator + value.denominator) // (2 * value.denominator))


@dataclass(frozen=True, slots=True)
class UnpaidInterest:
    """One unpaid instalment's interest owed to the part, and its period."""

    period_start: date
    due_on: date
    interest_owed_minor: int


def accrued_interest(rows: Sequence[UnpaidInterest], today: date) -> int:
    """Unpaid interest already due, plus the elapsed share of the next period's."""
    total = 0
    for row in sorted(rows, key=lambda r: r.due_on):
        if row.due_on <= today:
            total += row.interest_owed_minor
            continue
        days = (row.due_on - row.period_start).days
        elapsed = min(max((today - row.period_start).days, 0), days)
        if days > 0 and elapsed > 0:
            total += _half_up(Fraction(row.interest_owed_minor * elapsed, days))
        break
    return total


def quote(
    outstanding_minor: int,
    premium_bps: int,
    accrued_minor: int,
    policy: ResalePolicy = POLICY,
) -> Quote:
    """The price, the accrued interest and the fee of buying a part now."""
    if outstanding_minor <= 0 or accrued_minor < 0:
        raise ValueError("a part for sale has principal outstanding and no negative interest")
    premium = percent_of(outstanding_minor, premium_bps)
    total = outstanding_minor + premium + accrued_minor
    return Quote(
        outstanding_minor=outstanding_minor,
        premium_bps=premium_bps,
        premium_minor=premium,
        accrued_minor=accrued_minor,
        fee_minor=percent_of(total, policy.fee_bps),
    )


def auto_buy_fits(
    *,
    premium_bps: int,
    days_past_due: int,
    grade: str,
    rate_bps: int,
    months_left: int,
    min_rate_by_grade: dict[str, int],
    max_term_months: int,
    policy: ResalePolicy = POLICY,
) -> bool:
    """Whether an auto-invest order that opted in would buy this part: current, at par or
    below, a grade and rate the order takes, and no more months left than the order's
    longest term (a part bought halfway through is a shorter loan, never a longer one)."""
    floor = min_rate_by_grade.get(grade)
    return (
        days_past_due == 0
        and premium_bps <= policy.auto_max_premium_bps
        and floor is not None
        and rate_bps >= floor
        and 0 < months_left <= max_term_months
    )
