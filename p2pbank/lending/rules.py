"""Lending policy and the small calculations around it; pure, standard library only.

The lending defaults live in `POLICY` (one frozen value, so a test or a future
setting can build another). The calculations here are the ones the services need
besides matching (matching.py), schedules (schedule.py) and returns (returns.py):

* the borrowing limit ladder (after Zidisha), with the reason shown to the borrower;
* the origination fee by grade, the 1 % servicing fee and the late fee;
* days past due and the arrears buckets;
* splitting a payment among lenders' parts by the largest-remainder method, so the
  parts always add up to what was paid, to the cent;
* broken-period interest for an early repayment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from p2pbank.money import allocate, percent_of

GRADES = ("A", "B", "C", "D", "E")


@dataclass(frozen=True, slots=True)
class Policy:
    """Every number of the lending rules; all money in cents, all rates in basis points."""

    min_amount_minor: int = 50_000  # EUR 500
    max_amount_minor: int = 2_500_000  # EUR 25,000
    terms_months: tuple[int, ...] = (6, 12, 18, 24, 36, 48, 60)
    # The highest rate anyone may ask or offer: no loan on this platform costs more.
    rate_cap_bps: int = 3_600
    min_rate_bps: int = 100
    listing_days: int = 14
    accept_hours: int = 48
    min_partial_bps: int = 7_000  # 70 % funded may be accepted
    first_loan_limit_minor: int = 200_000  # EUR 2,000
    ladder_factor: Fraction = Fraction(3, 2)
    min_slice_minor: int = 2_500  # EUR 25
    max_order_minor: int = 100_000_000  # EUR 1,000,000
    default_borrower_cap_bps: int = 100  # 1 % of the order, never less than one slice
    origination_fee_bps: dict[str, int] = field(
        default_factory=lambda: {"A": 100, "B": 200, "C": 300, "D": 400, "E": 500}
    )
    servicing_fee_bps: int = 100  # 1 % of principal and interest each lender receives
    grace_days: int = 15
    late_fee_min_minor: int = 1_500  # EUR 15
    late_fee_bps: int = 500  # 5 % of the missed instalment
    default_days: int = 120
    purposes: tuple[str, ...] = (
        "car",
        "home",
        "education",
        "business",
        "debt_consolidation",
        "medical",
        "other",
    )


POLICY = Policy()


def euros(minor: int) -> str:
    """EUR 1,234.56: for messages (pages format money with the locale)."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}EUR {minor // 100:,}.{minor % 100:02d}"


def percent(bps: int) -> str:
    return f"{bps // 100}.{bps % 100:02d}%"


# --- checking terms ------------------------------------------------------------------------


def check_request_terms(
    *,
    amount_minor: object,
    term_months: object,
    max_rate_bps: object,
    purpose_category: object,
    purpose_text: object,
    method: object,
    policy: Policy = POLICY,
) -> dict[str, list[str]]:
    """Field errors of a loan request's terms against the policy (empty when fine)."""
    errors: dict[str, list[str]] = {}
    p = policy
    if type(amount_minor) is not int or not (
        p.min_amount_minor <= amount_minor <= p.max_amount_minor
    ):
        errors["amount_minor"] = [
            f"Ask for {euros(p.min_amount_minor)} to {euros(p.max_amount_minor)}."
        ]
    if type(term_months) is not int or term_months not in p.terms_months:
        terms = ", ".join(str(t) for t in p.terms_months)
        errors["term_months"] = [f"The term must be one of {terms} months."]
    if type(max_rate_bps) is not int or not p.min_rate_bps <= max_rate_bps <= p.rate_cap_bps:
        errors["max_rate_bps"] = [
            f"The highest rate must be from {percent(p.min_rate_bps)} to the platform cap "
            f"of {percent(p.rate_cap_bps)}."
        ]
    if purpose_category not in p.purposes:
        errors["purpose_category"] = ["Choose one of the listed purposes."]
    if not isinstance(purpose_text, str) or not 10 <= len(purpose_text.strip()) <= 500:
        errors["purpose_text"] = ["Describe the purpose in 10 to 500 characters."]
    if method not in ("annuity", "equal_principal"):
        errors["method"] = ["The schedule is annuity or equal_principal."]
    return errors


def check_order_terms(
    *,
    amount_minor: object,
    slice_minor: object,
    max_per_borrower_minor: object,
    min_rate_bps: object,
    min_term_months: object,
    max_term_months: object,
    policy: Policy = POLICY,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    p = policy
    if type(slice_minor) is not int or not p.min_slice_minor <= slice_minor <= p.max_amount_minor:
        errors["slice_minor"] = [f"A slice is at least {euros(p.min_slice_minor)}."]
    if type(amount_minor) is not int or not (
        p.min_slice_minor <= amount_minor <= p.max_order_minor
    ):
        errors["amount_minor"] = [f"Lend {euros(p.min_slice_minor)} to {euros(p.max_order_minor)}."]
    elif type(slice_minor) is int and amount_minor < slice_minor:
        errors["amount_minor"] = ["The order must be at least one slice."]
    if max_per_borrower_minor is not None and (
        type(max_per_borrower_minor) is not int
        or max_per_borrower_minor < (slice_minor if type(slice_minor) is int else 0)
        or max_per_borrower_minor > p.max_order_minor
    ):
        errors["max_per_borrower_minor"] = ["The most per borrower is at least one slice."]
    if not isinstance(min_rate_bps, dict) or not min_rate_bps:
        errors["min_rate_bps"] = ["Accept at least one grade, with its lowest rate."]
    else:
        for grade, rate in min_rate_bps.items():
            if grade not in GRADES:
                errors["min_rate_bps"] = [f"Grades are A to E, not {grade!r}."]
            elif type(rate) is not int or not 0 <= rate <= p.rate_cap_bps:
                errors["min_rate_bps"] = [
                    f"The rate for grade {grade} must be from 0 to the platform cap of "
                    f"{percent(p.rate_cap_bps)}."
                ]
    low, high = min(p.terms_months), max(p.terms_months)
    for name, value in (("min_term_months", min_term_months), ("max_term_months", max_term_months)):
        if type(value) is not int or not low <= value <= high:
            errors[name] = [f"Terms run from {low} to {high} months."]
    if (
        type(min_term_months) is int
        and type(max_term_months) is int
        and "min_term_months" not in errors
        and "max_term_months" not in errors
        and min_term_months > max_term_months
    ):
        errors["max_term_months"] = ["The longest term must not be below the shortest."]
    return errors


# --- the borrowing limit ladder ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PastLoan:
    """A finished loan of the borrower, oldest first: its principal and how it ended."""

    principal_minor: int
    on_time: bool  # repaid with no instalment past the grace period, and not defaulted


@dataclass(frozen=True, slots=True)
class Limit:
    amount_minor: int
    reason: str
    on_time_loans: int = 0


def borrowing_limit(history: Sequence[PastLoan], policy: Policy = POLICY) -> Limit:
    """The most a borrower may ask for now, and why (Zidisha's ladder).

    The first loan is capped at `first_loan_limit_minor`. Each loan repaid on time
    multiplies the cap by `ladder_factor` (rounded down to the cent). A loan that was
    late (or defaulted) drops the cap back to the largest principal ever repaid on time,
    or to the first-loan cap if there is none. Never above `max_amount_minor`.
    """
    limit = policy.first_loan_limit_minor
    reason = "A first loan is limited to the first-loan cap."
    best_on_time = 0
    on_time = 0
    for loan in history:
        if loan.on_time:
            on_time += 1
            best_on_time = max(best_on_time, loan.principal_minor)
            limit = int(limit * policy.ladder_factor)
            reason = (
                f"{on_time} loan(s) repaid on time: each raised the limit by "
                f"{float(policy.ladder_factor):g}x."
            )
        else:
            if best_on_time:
                limit = best_on_time
                reason = (
                    "A loan was repaid late: the limit went back to the largest amount "
                    "ever repaid on time."
                )
            else:
                limit = policy.first_loan_limit_minor
                reason = "A loan was repaid late and none on time: the first-loan cap applies."
    if limit > policy.max_amount_minor:
        limit = policy.max_amount_minor
        reason += " The platform maximum applies."
    return Limit(amount_minor=limit, reason=reason, on_time_loans=on_time)


# --- fees ----------------------------------------------------------------------------------


def origination_fee(principal_minor: int, grade: str, policy: Policy = POLICY) -> int:
    """The fee kept from the amount paid out, by grade (half up to the cent)."""
    return percent_of(principal_minor, policy.origination_fee_bps[grade])


def late_fee(instalment_minor: int, policy: Policy = POLICY) -> int:
    """Charged once per missed instalment: the greater of EUR 15 or 5 % of it."""
    return max(policy.late_fee_min_minor, percent_of(instalment_minor, policy.late_fee_bps))


def default_borrower_cap(amount_minor: int, slice_minor: int, policy: Policy = POLICY) -> int:
    """1 % of the order, never less than one slice."""
    return max(slice_minor, percent_of(amount_minor, policy.default_borrower_cap_bps))


def min_funded_minor(amount_minor: int, policy: Policy = POLICY) -> int:
    """The least funding (70 %, rounded up to the cent) a borrower may accept."""
    return -(-amount_minor * policy.min_partial_bps // 10_000)


# --- arrears -------------------------------------------------------------------------------

BUCKETS = ((1, 15, "1-15"), (16, 30, "16-30"), (31, 60, "31-60"), (61, 120, "61-120"))


def days_past_due(oldest_unpaid_due_on: date | None, today: date) -> int:
    """Whole days since the oldest unpaid due date; 0 when nothing is overdue."""
    if oldest_unpaid_due_on is None or today <= oldest_unpaid_due_on:
        return 0
    return (today - oldest_unpaid_due_on).days


def arrears_bucket(days: int) -> str:
    """'current', '1-15', '16-30', '31-60', '61-120' or '120+' days past due."""
    if days <= 0:
        return "current"
    for low, high, name in BUCKETS:
        if low <= days <= high:
            return name
    return "120+"


def is_late(days: int, policy: Policy = POLICY) -> bool:
    """Past the grace period: the loan is `late` and the instalment owes a late fee."""
    return days > policy.grace_days


def is_default(days: int, policy: Policy = POLICY) -> bool:
    return days >= policy.default_days


# --- splitting payments among parts --------------------------------------------------------


def split_by_remaining(amount_minor: int, remaining: Sequence[int]) -> list[int]:
    """Split a payment of one component among parts in proportion to what each is still
    owed; no part ever gets more than it is owed (the payment must not exceed the sum)."""
    total = sum(remaining)
    if amount_minor < 0 or amount_minor > total:
        raise ValueError(f"cannot split {amount_minor} over {total} owed")
    if amount_minor == 0:
        return [0] * len(remaining)
    return allocate(amount_minor, list(remaining))


def servicing_fees(gross: Sequence[int], policy: Policy = POLICY) -> list[int]:
    """Each part's servicing fee: 1 % of the total, split by largest remainder by what each
    part receives, so the fees add up to the platform's cut exactly."""
    total = sum(gross)
    if total == 0:
        return [0] * len(gross)
    return allocate(percent_of(total, policy.servicing_fee_bps), list(gross))


# --- early repayment -----------------------------------------------------------------------


def accrued_interest(
    principal_minor: int, rate_bps: int, period_start: date, period_end: date, on: date
) -> int:
    """Interest on `principal_minor` for the days from `period_start` to `on`, as a share
    of the month's interest (days elapsed / days in the period), half up to the cent."""
    period_days = (period_end - period_start).days
    elapsed = min(max((on - period_start).days, 0), period_days)
    if period_days <= 0 or elapsed == 0:
        return 0
    exact = Fraction(principal_minor * rate_bps * elapsed, 12 * 10_000 * period_days)
    return (2 * exact.numerator + exact.denominator) // (2 * exact.denominator)
