"""A lender's returns, two ways, side by side on the dashboard; pure, no I/O.

* Net annualized return, the way LendingClub publishes it ("How we measure Net
  Annualized Return"): per note and month, interest and late fees received, minus
  service fees, minus principal charged off, plus recoveries; summed over all notes and
  months and divided by the sum of the principal outstanding at the start of each of
  those months. That is the principal-weighted average monthly return, annualized as
  (1 + monthly) ** 12 - 1. It ignores idle cash and timing within the month.
* XIRR of the lender's actual dated cash flows: the rate r with
  sum(amount / (1 + r) ** (days / 365)) == 0, days counted from the first flow (the
  spreadsheet XIRR convention). It counts when money moved, including idle periods.

Both are computed over *holdings*: one lender's time with one loan part, from its issue
to the lender (or a purchase on the secondary market) to today (or a sale). Periods are
the loan's payment months, and a period *ends* on its due date: a payment collected on the
due date is that period's income, not the next one's (counting it in the next period made
a 10 %/36-month loan paid on time show 4.91 % after its first payment instead of 10.05 %).
A period counts once it is over, or earlier when money moved in it.

Inputs are integer cents; the results are float ratios (0.05 is 5 %), never money.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from p2pbank.months import add_months

_EXP_LIMIT = 700.0  # math.exp(700) ~ 1e304: still a finite float


@dataclass(frozen=True, slots=True)
class NoteMonth:
    """One note's figures for one monthly payment period, in cents."""

    outstanding_principal_minor: int  # at the start of the period
    interest_minor: int = 0
    late_fees_minor: int = 0
    service_fees_minor: int = 0
    charged_off_minor: int = 0  # principal written off in this period
    recoveries_minor: int = 0  # recovered after a charge-off, net of collection fees

    @property
    def net_minor(self) -> int:
        """What the period earned the lender: the NAR numerator for this note and month."""
        return (
            self.interest_minor
            + self.late_fees_minor
            - self.service_fees_minor
            - self.charged_off_minor
            + self.recoveries_minor
        )


def annualize_monthly(monthly: float) -> float:
    """Compound a monthly return over twelve months."""
    return (1.0 + monthly) ** 12 - 1.0


def net_annualized_return(months: Iterable[NoteMonth]) -> float | None:
    """LendingClub-style NAR over all notes and periods; None before any principal is out."""
    net = 0
    principal = 0
    for month in months:
        net += month.net_minor
        principal += month.outstanding_principal_minor
    if principal <= 0:
        return None
    return annualize_monthly(net / principal)


def xirr(flows: Iterable[tuple[date, int]], *, guess: float = 0.1) -> float:
    """Annual rate that brings the dated cash flows' present value to zero.

    Money paid out is negative, money received positive. Newton's method from `guess`,
    and if it fails to converge inside (-1, inf), bisection on a bracket, which always
    converges because at least one flow of each sign is required. A near-total loss
    (below about -99.99...%) comes back as -1.0, the nearest float.
    """
    dated = sorted(flows)
    if not any(a < 0 for _, a in dated) or not any(a > 0 for _, a in dated):
        raise ValueError("XIRR needs at least one negative and one positive cash flow")
    start = dated[0][0]
    times = [(d - start).days / 365.0 for d, _ in dated]
    amounts = [float(a) for _, a in dated]
    rate = _newton(times, amounts, guess)
    return rate if rate is not None else _bisect(times, amounts)


def _newton(times: list[float], amounts: list[float], rate: float) -> float | None:
    """Newton's iteration; None if it leaves the domain or does not settle."""
    if rate <= -1.0:
        return None
    scale = max(abs(a) for a in amounts)
    for _ in range(100):
        base = 1.0 + rate
        try:
            value = sum(a * base**-t for t, a in zip(times, amounts, strict=True))
            slope = sum(-t * a * base ** (-t - 1) for t, a in zip(times, amounts, strict=True))
        except (OverflowError, ZeroDivisionError):
            return None
        if slope == 0 or not math.isfinite(value) or not math.isfinite(slope):
            return None
        step = value / slope
        rate -= step
        if rate <= -1.0 or not math.isfinite(rate):
            return None
        if abs(step) < 1e-12 and abs(value) < 1e-9 * scale:
            return rate
    return None


def _bisect(times: list[float], amounts: list[float]) -> float:
    """Bisection on u = ln(1 + r), where every rate above -100 % is a finite u.

    Working in u keeps rates just above -100 % (a near-total loss) reachable. The bracket
    is searched within the u for which exp() and the resulting rate are finite floats; a
    root beyond that is refused rather than guessed.
    """
    horizon = max(times)
    if horizon == 0:
        raise ValueError("XIRR needs cash flows on at least two dates")

    def value(u: float) -> float:
        # Scaled by the largest discount factor: the sign is all bisection needs, and
        # unscaled sums overflow to inf (then nan) at the far ends of the range.
        top = max(-u * t for t in times)
        return math.fsum(a * math.exp(-u * t - top) for t, a in zip(times, amounts, strict=True))

    low, high = _bracket(value, -_EXP_LIMIT / horizon, _EXP_LIMIT)
    low_value = value(low)
    for _ in range(200):
        middle = (low + high) / 2
        middle_value = value(middle)
        if middle_value * low_value > 0:
            low, low_value = middle, middle_value
        else:
            high = middle
        if high - low < 1e-14:
            break
    return math.expm1((low + high) / 2)


def _bracket(value: Callable[[float], float], lowest: float, highest: float) -> tuple[float, float]:
    """Two u with the present value of opposite signs (or zero), the pair nearest u = 0.

    Widening [-1, 1] finds it when one root lies in between. Flows that change sign more
    than once can have two roots there and the same sign at both ends, so then a grid
    (fine near zero, 1 % apart further out) is scanned, and between grid points where
    the value comes closest to zero, its turning point is checked as well.
    """
    low, high = -1.0, 1.0
    while value(low) * value(high) > 0 and (low > lowest or high < highest):
        low, high = max(2 * low, lowest), min(2 * high, highest)
    if value(low) * value(high) <= 0:
        return low, high
    grid = _grid(lowest, highest)
    values = [value(u) for u in grid]
    found: list[tuple[float, float]] = []
    for i in range(len(grid) - 1):
        if values[i] * values[i + 1] <= 0:
            found.append((grid[i], grid[i + 1]))
        elif i > 0 and abs(values[i]) < min(abs(values[i - 1]), abs(values[i + 1])):
            turn = _turning_point(value, grid[i - 1], grid[i + 1])
            if value(turn) * values[i] <= 0:
                found.append((grid[i - 1], turn))
    if not found:
        raise ValueError("no XIRR a float can hold: the rate is beyond any sensible bound")
    return min(found, key=lambda pair: min(abs(pair[0]), abs(pair[1])))


def _grid(lowest: float, highest: float) -> list[float]:
    """Points from `lowest` to `highest`: 0.01 apart within [-1, 1], then 1 % apart."""
    near = [i / 100 for i in range(-100, 101)]
    far_up, far_down = [], []
    u = 1.01
    while u < max(highest, -lowest):
        if u < highest:
            far_up.append(u)
        if -u > lowest:
            far_down.append(-u)
        u *= 1.01
    points = [p for p in near if lowest <= p <= highest] + far_up + far_down
    return sorted({*points, lowest, highest})


def _turning_point(value: Callable[[float], float], low: float, high: float) -> float:
    """Where |value| is smallest between low and high (golden-section search)."""
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        left, right = high - ratio * (high - low), low + ratio * (high - low)
        if abs(value(left)) < abs(value(right)):
            high = right
        else:
            low = left
    return (low + high) / 2


@dataclass(frozen=True, slots=True)
class Receipt:
    """One payment to the holder (a repayment share), in cents."""

    on: date
    principal_minor: int = 0
    interest_minor: int = 0
    late_fee_minor: int = 0
    recovery_minor: int = 0
    service_fee_minor: int = 0

    @property
    def net_minor(self) -> int:
        return (
            self.principal_minor
            + self.interest_minor
            + self.late_fee_minor
            + self.recovery_minor
            - self.service_fee_minor
        )


@dataclass(frozen=True, slots=True)
class Holding:
    """One lender's time with one part: from the issue (paid = principal) or a purchase
    (paid = price and accrued interest) to a sale (proceeds after the fee) or today."""

    started_on: date
    paid_minor: int  # cash out when it started
    principal_minor: int  # principal outstanding taken over
    receipts: tuple[Receipt, ...] = ()
    written_off: tuple[date, int] | None = None
    sold_on: date | None = None
    proceeds_minor: int = 0  # cash in at the sale, after the fee
    outstanding_now_minor: int = 0  # for a holding still open

    def outstanding_after(self, day: date) -> int:
        """Principal still outstanding at the end of `day`."""
        repaid = sum(r.principal_minor for r in self.receipts if r.on <= day)
        off = self.written_off[1] if self.written_off and self.written_off[0] <= day else 0
        return self.principal_minor - repaid - off

    def outstanding_at_end(self) -> int:
        """Principal outstanding after every receipt of the holding (what a sale gives up)."""
        repaid = sum(r.principal_minor for r in self.receipts)
        off = self.written_off[1] if self.written_off else 0
        return self.principal_minor - repaid - off


@dataclass(frozen=True)
class Figures:
    months: list[NoteMonth] = field(default_factory=list)
    flows: list[tuple[date, int]] = field(default_factory=list)


def _period(
    holding: Holding, start: date, end: date, *, first: bool, last: bool, over: bool
) -> NoteMonth | None:
    """The period (start, end]; the first also holds its start day. What was paid for a
    holding against the principal taken over counts in its first period (a discount earned,
    or a premium and accrued interest paid); what a sale brought against the principal
    given up counts in the sale's period."""

    def inside(day: date) -> bool:
        return start < day <= end or (first and day == start)

    receipts = [r for r in holding.receipts if inside(r.on)]
    off = holding.written_off
    charged = off[1] if off and inside(off[0]) else 0
    extra = holding.principal_minor - holding.paid_minor if first else 0
    if last:
        extra += holding.proceeds_minor - holding.outstanding_at_end()
    outstanding = holding.principal_minor if first else holding.outstanding_after(start)
    moved = bool(receipts or charged or extra)
    if (outstanding <= 0 or not over) and not moved:
        return None
    return NoteMonth(
        outstanding_principal_minor=max(outstanding, 0),
        interest_minor=sum(r.interest_minor for r in receipts) + max(extra, 0),
        late_fees_minor=sum(r.late_fee_minor for r in receipts),
        service_fees_minor=sum(r.service_fee_minor for r in receipts) + max(-extra, 0),
        charged_off_minor=charged,
        recoveries_minor=sum(r.recovery_minor for r in receipts),
    )


def _months(holding: Holding, today: date) -> list[NoteMonth]:
    """The holding's monthly periods from the day it started, up to today or the sale;
    a sold holding's last period ends on the sale day and carries the sale."""
    found: list[NoteMonth] = []
    until = holding.sold_on if holding.sold_on is not None else today
    k = 0
    while True:
        start = add_months(holding.started_on, k)
        if k > 0 and start >= until:
            return found
        end = add_months(holding.started_on, k + 1)
        last = holding.sold_on is not None and holding.sold_on <= end
        if last:
            end = until
        month = _period(holding, start, end, first=k == 0, last=last, over=end <= today)
        if month is not None:
            found.append(month)
        k += 1


def figures(holdings: Sequence[Holding], today: date) -> Figures:
    """The NAR months and the XIRR cash flows of a set of holdings."""
    out = Figures()
    for holding in holdings:
        out.flows.append((holding.started_on, -holding.paid_minor))
        out.flows.extend((r.on, r.net_minor) for r in holding.receipts if r.net_minor)
        if holding.sold_on is not None:
            out.flows.append((holding.sold_on, holding.proceeds_minor))
        elif holding.outstanding_now_minor:
            out.flows.append((today, holding.outstanding_now_minor))
        out.months.extend(_months(holding, today))
    return out


def returns_of(holdings: Sequence[Holding], today: date) -> tuple[float | None, float | None]:
    """(NAR, XIRR) of the holdings; None where there is nothing to measure yet."""
    found = figures(holdings, today)
    nar = net_annualized_return(found.months)
    try:
        irr = xirr(found.flows) if found.flows else None
    except ValueError:
        irr = None
    return nar, irr
