"""The loan book's published figures from plain facts; pure, so anyone can recompute them.

Default rates follow Regulation (EU) 2020/1503 article 20(1), which asks a platform to
publish yearly the default rates of the projects it offered over at least the past 36
months. Our method, stated on the page:

- a loan is *in default* once it reaches the `defaulted` state (`POLICY.default_days`
  past due, see lending.rules), whether or not anything was recovered later;
- the **actual default rate** of a group of loans (a grade, a vintage = the year a loan was
  issued) is the principal of its defaulted loans divided by the principal issued, and
  also shown by count;
- the **expected default rate** of a grade is the platform's estimate, made before the
  loans were issued (`EXPECTED_DEFAULT_BPS`, versioned), of the share of principal that
  will default over the loans' lives;
- a young vintage has had less time to default: each row says how many of its loans are
  still running.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

GRADES = ("A", "B", "C", "D", "E")
# The platform's estimate of lifetime defaults per grade, in basis points of principal.
EXPECTED_DEFAULT_VERSION = "2026-12.1"
EXPECTED_DEFAULT_BPS = {"A": 100, "B": 250, "C": 500, "D": 900, "E": 1_500}
WINDOW_MONTHS = 36


@dataclass(frozen=True, slots=True)
class LoanFact:
    issued_on: date
    grade: str
    principal_minor: int
    rate_bps: int
    outstanding_minor: int
    status: str  # active, repaid, defaulted, ...
    interest_received_minor: int
    lost_minor: int  # principal written off less what was recovered


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: str  # YYYY-MM
    grade: str
    loans: int
    principal_minor: int


@dataclass(frozen=True, slots=True)
class DefaultRow:
    vintage: int
    grade: str
    loans: int
    principal_minor: int
    defaulted_loans: int
    defaulted_minor: int
    running_loans: int
    expected_bps: int

    @property
    def actual_bps(self) -> int:
        """Principal in default per principal issued, in basis points (rounded half up)."""
        return _share_bps(self.defaulted_minor, self.principal_minor)

    @property
    def actual_count_bps(self) -> int:
        return _share_bps(self.defaulted_loans, self.loans)


@dataclass(frozen=True, slots=True)
class BookSummary:
    loans: int
    principal_minor: int
    outstanding_minor: int
    average_rate_bps: int | None  # weighted by principal
    realized_return_bps: int | None  # (interest received - losses) / principal issued
    interest_received_minor: int
    lost_minor: int


def _share_bps(part: int, whole: int) -> int:
    return (part * 20_000 + whole) // (2 * whole) if whole else 0


def issued_by_month(facts: Iterable[LoanFact]) -> list[MonthRow]:
    """Loans issued per calendar month and grade, oldest month first."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for f in facts:
        group = groups[(f.issued_on.strftime("%Y-%m"), f.grade)]
        group[0] += 1
        group[1] += f.principal_minor
    return [MonthRow(m, g, n, p) for (m, g), (n, p) in sorted(groups.items())]


def default_rates(facts: Iterable[LoanFact], today: date) -> list[DefaultRow]:
    """Actual beside expected default rates per vintage and grade, for the loans issued in
    the last `WINDOW_MONTHS` months (art. 20(1): at least the past 36 months)."""
    first = _months_before(today, WINDOW_MONTHS)
    groups: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for f in facts:
        if f.issued_on < first:
            continue
        g = groups[(f.issued_on.year, f.grade)]
        g[0] += 1
        g[1] += f.principal_minor
        if f.status == "defaulted":
            g[2] += 1
            g[3] += f.principal_minor
        elif f.status == "active":
            g[4] += 1
    return [
        DefaultRow(year, grade, n, p, dn, dp, running, EXPECTED_DEFAULT_BPS.get(grade, 0))
        for (year, grade), (n, p, dn, dp, running) in sorted(groups.items())
    ]


def summary(facts: Iterable[LoanFact]) -> BookSummary:
    """Totals of the whole book: issued, outstanding, average rate, realized return."""
    facts = list(facts)
    principal = sum(f.principal_minor for f in facts)
    interest = sum(f.interest_received_minor for f in facts)
    lost = sum(f.lost_minor for f in facts)
    weighted = sum(f.rate_bps * f.principal_minor for f in facts)
    return BookSummary(
        loans=len(facts),
        principal_minor=principal,
        outstanding_minor=sum(f.outstanding_minor for f in facts if f.status == "active"),
        average_rate_bps=(weighted * 2 + principal) // (2 * principal) if principal else None,
        realized_return_bps=_share_bps(interest - lost, principal) if principal else None,
        interest_received_minor=interest,
        lost_minor=lost,
    )


def share_bps(part: int, whole: int) -> int | None:
    """A share in basis points, or None when there is nothing to share."""
    return _share_bps(part, whole) if whole else None


def _months_before(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
