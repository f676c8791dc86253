"""Repayment schedules for a loan funded in parts at different rates; pure, no I/O.

A loan is made of lender parts, each with its own principal and yearly rate (pay-as-bid).
The borrower pays one instalment a month, and every instalment is split into parts that
add up to it exactly, to the cent:

* Interest: each part accrues on its own outstanding principal at its own monthly rate,
  rate_bps / 12 / 10 000, computed exactly with integers and rounded half up to the cent.
* Principal: the borrower's principal for the month is split among the parts in
  proportion to their outstanding principal by the largest-remainder method
  (`p2pbank.money.allocate`), so the parts amortize together and never go negative.
* Annuity (French): the instalment is the annuity of the whole loan at the
  principal-weighted average monthly rate, A = P·i / (1 − (1 + i)^−n), computed with
  Fractions and rounded half up. With parts amortizing in proportion, the sum of the
  parts' interest is that average rate on the balance, so A pays the loan off in n months.
* Equal principal: the same principal every month (floor of P / n), interest on top.
* The last instalment pays whatever principal is left, so the principal paid adds up to
  the loan exactly; it absorbs all rounding.

Due dates keep the day of the month of the issue date, clamped to the end of shorter
months: a loan issued on 31 January is due 28 (or 29) February, 31 March, 30 April...

The APR follows the Consumer Credit Directive 2008/48/EC, Annex I: the rate X solving
sum(drawdowns · (1 + X)^−t) = sum(payments · (1 + X)^−s), times in years. Instalments
fall whole months after the drawdown, so t = months / 12 (Annex I, remark (c): a year
has 12 equal months). Solved by bisection in floats: it is a reported ratio, not money.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from fractions import Fraction

from p2pbank.money import allocate
from p2pbank.months import add_months

BPS_MONTHS = 12 * 10_000  # annual bps -> monthly fraction: rate_bps / BPS_MONTHS


class Method(StrEnum):
    ANNUITY = "annuity"
    EQUAL_PRINCIPAL = "equal_principal"


class Keep(StrEnum):
    """What stays the same when a loan is repaid early in part."""

    INSTALMENT = "instalment"  # the term gets shorter (the default)
    TERM = "term"  # the instalment gets smaller


@dataclass(frozen=True, slots=True)
class ScheduledPart:
    """One lender's part of a loan: principal and yearly rate in basis points."""

    principal_minor: int
    rate_bps: int

    def __post_init__(self) -> None:
        for name in ("principal_minor", "rate_bps"):
            value = getattr(self, name)
            if type(value) is not int:
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")


@dataclass(frozen=True, slots=True)
class PartPayment:
    """What one part receives from one instalment."""

    interest_minor: int
    principal_minor: int

    @property
    def total_minor(self) -> int:
        return self.interest_minor + self.principal_minor


@dataclass(frozen=True, slots=True)
class ScheduledInstalment:
    """One month's payment; `parts` is in the loan's part order and sums to the payment."""

    number: int
    due_on: date
    payment_minor: int
    interest_minor: int
    principal_minor: int
    balance_minor: int  # principal still owed after this instalment
    parts: tuple[PartPayment, ...]


@dataclass(frozen=True, slots=True)
class Schedule:
    """All instalments of a loan (or of what is left of it) and what it costs."""

    method: Method
    issued_on: date
    parts: tuple[ScheduledPart, ...]  # outstanding principal when the schedule starts
    instalments: tuple[ScheduledInstalment, ...]
    fee_minor: int = 0  # origination fee kept from the amount paid out

    @property
    def principal_minor(self) -> int:
        return sum(p.principal_minor for p in self.parts)

    @property
    def total_interest_minor(self) -> int:
        return sum(i.interest_minor for i in self.instalments)

    @property
    def total_paid_minor(self) -> int:
        return sum(i.payment_minor for i in self.instalments)

    @property
    def total_cost_minor(self) -> int:
        """Total cost of the credit to the borrower: all interest plus the fee."""
        return self.total_interest_minor + self.fee_minor

    def apr(self) -> float:
        """Annual percentage rate (CCD Annex I) as a fraction: 0.1268 is 12.68 %.

        Only meaningful for a schedule that starts at the drawdown (not after an early
        repayment): the drawdown is the principal minus the fee, on the issue date.
        """
        flows = [(_months_between(self.issued_on, i.due_on), i.payment_minor) for i in self]
        return annual_percentage_rate(self.principal_minor - self.fee_minor, flows)

    def __iter__(self) -> Iterator[ScheduledInstalment]:
        return iter(self.instalments)

    def __len__(self) -> int:
        return len(self.instalments)


@dataclass(frozen=True, slots=True)
class EarlyRepayment:
    """An early repayment: how it splits among the parts, and the schedule after it."""

    prepaid_parts: tuple[int, ...]  # principal repaid to each part, in part order
    schedule: Schedule


def round_half_up(value: Fraction) -> int:
    """Nearest integer, an exact half rounding up (towards +infinity)."""
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def monthly_interest(principal_minor: int, rate_bps: int) -> int:
    """One month's interest in cents: principal * rate_bps / 120 000, half up."""
    return round_half_up(Fraction(principal_minor * rate_bps, BPS_MONTHS))


def weighted_monthly_rate(parts: Sequence[ScheduledPart]) -> Fraction:
    """The principal-weighted average monthly rate of the parts, exactly."""
    principal = sum(p.principal_minor for p in parts)
    if principal == 0:
        return Fraction(0)
    weighted = sum(p.principal_minor * p.rate_bps for p in parts)
    return Fraction(weighted, principal * BPS_MONTHS)


def annuity_payment(principal_minor: int, monthly_rate: Fraction, months: int) -> int:
    """A = P·i·(1+i)^n / ((1+i)^n − 1), or P/n at zero rate; exact, then half up."""
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    if monthly_rate == 0:
        return round_half_up(Fraction(principal_minor, months))
    growth = (1 + monthly_rate) ** months
    return round_half_up(principal_minor * monthly_rate * growth / (growth - 1))


def due_dates(issued_on: date, months: int, *, first: int = 1) -> list[date]:
    """Due dates of instalments `first` .. `first + months - 1` of a loan issued then."""
    return [add_months(issued_on, k) for k in range(first, first + months)]


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def annuity_schedule(
    parts: Sequence[ScheduledPart], term_months: int, issued_on: date, *, fee_minor: int = 0
) -> Schedule:
    """French schedule: the same instalment every month, the last one absorbing rounding."""
    return build_schedule(parts, term_months, issued_on, Method.ANNUITY, fee_minor=fee_minor)


def equal_principal_schedule(
    parts: Sequence[ScheduledPart], term_months: int, issued_on: date, *, fee_minor: int = 0
) -> Schedule:
    """The same principal every month plus that month's interest; the last absorbs rounding."""
    return build_schedule(
        parts, term_months, issued_on, Method.EQUAL_PRINCIPAL, fee_minor=fee_minor
    )


def build_schedule(
    parts: Sequence[ScheduledPart],
    term_months: int,
    issued_on: date,
    method: Method = Method.ANNUITY,
    *,
    fee_minor: int = 0,
) -> Schedule:
    """The full schedule shown to the borrower before accepting the loan."""
    _check_loan(parts, term_months, fee_minor)
    fixed = _fixed_amount(parts, term_months, method)
    rows = _amortize(parts, issued_on, 1, term_months, fixed, method)
    return Schedule(method, issued_on, tuple(parts), tuple(rows), fee_minor)


def recompute_after_early_repayment(
    schedule: Schedule,
    paid_instalments: int,
    prepayment_minor: int,
    *,
    keep: Keep = Keep.INSTALMENT,
) -> EarlyRepayment:
    """The rest of the loan after the borrower repays `prepayment_minor` of principal early.

    The prepayment counts as made on the due date of the last paid instalment (the issue
    date if none): interest for a broken month, if any, is charged by the caller. It is
    split among the parts in proportion to what each is still owed (largest remainder).
    By default the instalment stays and the term gets shorter; `keep=Keep.TERM` keeps the
    remaining months and lowers the instalment. For equal principal, "the instalment" is
    the monthly principal. No penalty: only principal and future interest change.
    """
    rows = schedule.instalments
    if type(paid_instalments) is not int or not 0 <= paid_instalments < len(rows):
        raise ValueError(f"paid_instalments must be in 0..{len(rows) - 1}")
    outstanding = [p.principal_minor for p in schedule.parts]
    for row in rows[:paid_instalments]:
        outstanding = [o - pp.principal_minor for o, pp in zip(outstanding, row.parts, strict=True)]
    balance = sum(outstanding)
    if type(prepayment_minor) is not int or not 0 < prepayment_minor <= balance:
        raise ValueError(f"prepayment_minor must be from 1 to the balance {balance}")
    prepaid = allocate(prepayment_minor, outstanding)
    parts = [
        ScheduledPart(o - p, part.rate_bps)
        for o, p, part in zip(outstanding, prepaid, schedule.parts, strict=True)
    ]
    months = len(rows) - paid_instalments
    if keep is Keep.INSTALMENT:
        first_row = rows[0]
        fixed = (
            first_row.payment_minor
            if schedule.method is Method.ANNUITY
            else first_row.principal_minor
        )
    else:
        fixed = _fixed_amount(parts, months, schedule.method)
    first = rows[paid_instalments].number
    new_rows = _amortize(parts, schedule.issued_on, first, months, fixed, schedule.method)
    rest = Schedule(schedule.method, schedule.issued_on, tuple(parts), tuple(new_rows))
    return EarlyRepayment(tuple(prepaid), rest)


def _fixed_amount(parts: Sequence[ScheduledPart], months: int, method: Method) -> int:
    """The instalment (annuity) or the monthly principal (equal principal) over `months`."""
    principal = sum(p.principal_minor for p in parts)
    if method is Method.ANNUITY:
        return annuity_payment(principal, weighted_monthly_rate(parts), months)
    return principal // months


def _check_loan(parts: Sequence[ScheduledPart], term_months: int, fee_minor: int) -> None:
    principal = sum(p.principal_minor for p in parts)
    if principal <= 0:
        raise ValueError("a loan needs at least one part and a positive principal")
    if type(term_months) is not int or term_months < 1:
        raise ValueError(f"term_months must be a positive int, got {term_months!r}")
    if type(fee_minor) is not int or not 0 <= fee_minor < principal:
        raise ValueError("fee_minor must be an int from 0 to below the principal")


def _amortize(
    parts: Sequence[ScheduledPart],
    issued_on: date,
    first: int,
    months: int,
    fixed_minor: int,
    method: Method,
) -> list[ScheduledInstalment]:
    """Instalments `first` .. `first + months - 1`, stopping once the balance is paid.

    `fixed_minor` is the instalment (annuity) or the monthly principal (equal principal).
    The principal due is clamped to [0, balance] so no amount is ever negative, and the
    instalment at the end of the term pays the whole balance. The loan may finish before
    the end of the term when rounding (or a kept instalment after a prepayment) allows.
    """
    outstanding = [p.principal_minor for p in parts]
    rates = [p.rate_bps for p in parts]
    rows: list[ScheduledInstalment] = []
    for k, due_on in enumerate(due_dates(issued_on, months, first=first)):
        balance = sum(outstanding)
        if balance == 0:
            break
        interests = [monthly_interest(o, r) for o, r in zip(outstanding, rates, strict=True)]
        interest = sum(interests)
        due = fixed_minor - interest if method is Method.ANNUITY else fixed_minor
        principal = balance if k == months - 1 else max(0, min(due, balance))
        shares = allocate(principal, outstanding)
        outstanding = [o - s for o, s in zip(outstanding, shares, strict=True)]
        rows.append(
            ScheduledInstalment(
                number=first + k,
                due_on=due_on,
                payment_minor=interest + principal,
                interest_minor=interest,
                principal_minor=principal,
                balance_minor=balance - principal,
                parts=tuple(PartPayment(i, s) for i, s in zip(interests, shares, strict=True)),
            )
        )
    return rows


def annual_percentage_rate(advance_minor: int, payments: Sequence[tuple[int, int]]) -> float:
    """APR per CCD 2008/48/EC Annex I for one drawdown and monthly payments.

    Solves advance = sum(amount * (1 + X) ** (-months / 12)) over (months, amount) pairs
    by bisection: the right side falls as X grows, so the root is bracketed and unique.
    Returns X as a fraction (0.1268 is 12.68 %).
    """
    if advance_minor <= 0 or not payments:
        raise ValueError("the APR needs a positive advance and at least one payment")

    def excess(rate: float) -> float:
        base = 1.0 + rate
        return float(sum(a * base ** (-m / 12) for m, a in payments)) - advance_minor

    low, high = -0.99, 1.0
    if excess(low) < 0:
        raise ValueError("payments are too small for an APR above -99 %")
    while excess(high) > 0:
        high *= 2
        if high > 1e6:
            raise ValueError("the APR is beyond any sensible bound")
    for _ in range(200):
        middle = (low + high) / 2
        if excess(middle) > 0:
            low = middle
        else:
            high = middle
        if high - low < 1e-12:
            break
    return (low + high) / 2
