"""A lender's returns when loan parts change hands; pure, standard library only.

The lending dashboard counts a part from the loan's issue to today. Once parts are sold,
a lender holds a part for a stretch of time -- a *holding* -- that starts when the loan was
issued to them or when they bought it, and ends when they sold it (or goes on).

* XIRR: the money paid for the holding (the principal lent, or the price and accrued
  interest paid to the seller) goes out on the day it started; every payment received
  after fees while it was held comes in; a sale brings in what the seller got after the
  fee, on the sale day; a holding still open is valued at its outstanding principal today.
* NAR (the LendingClub method of `lending.returns`): per holding and month, interest, late
  fees and recoveries less servicing fees and write-offs, over the principal outstanding
  at the month's start. What was paid for a holding against the principal taken over
  counts in its first month (a discount earned, or a premium and the accrued interest
  paid); what a sale brought against the principal given up counts in the sale month.
  Without sales this is exactly the dashboard's figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from p2pbank.lending import returns as base
from p2pbank.months import add_months


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
    """One lender's time with one part."""

    started_on: date
    paid_minor: int  # cash out when it started
    principal_minor: int  # principal outstanding taken over
    receipts: tuple[Receipt, ...] = ()
    written_off: tuple[date, int] | None = None
    sold_on: date | None = None
    proceeds_minor: int = 0  # cash in at the sale, after the fee
    outstanding_now_minor: int = 0  # for a holding still open

    def outstanding_on(self, day: date) -> int:
        """Principal outstanding at the start of `day`."""
        repaid = sum(r.principal_minor for r in self.receipts if r.on < day)
        off = self.written_off[1] if self.written_off and self.written_off[0] < day else 0
        return self.principal_minor - repaid - off

    def outstanding_at_end(self) -> int:
        """Principal outstanding after every receipt of the holding (what a sale gives up)."""
        repaid = sum(r.principal_minor for r in self.receipts)
        off = self.written_off[1] if self.written_off else 0
        return self.principal_minor - repaid - off


@dataclass(frozen=True)
class Figures:
    months: list[base.NoteMonth] = field(default_factory=list)
    flows: list[tuple[date, int]] = field(default_factory=list)


def _month(
    holding: Holding, start: date, end: date, *, first: bool, last: bool
) -> base.NoteMonth | None:
    inside = [r for r in holding.receipts if start <= r.on < end or (last and r.on == end)]
    charged = 0
    if holding.written_off and start <= holding.written_off[0] < end:
        charged = holding.written_off[1]
    extra = holding.principal_minor - holding.paid_minor if first else 0
    if last:
        extra += holding.proceeds_minor - holding.outstanding_at_end()
    outstanding = holding.outstanding_on(start)
    if outstanding <= 0 and not inside and not charged and not extra:
        return None
    return base.NoteMonth(
        outstanding_principal_minor=max(outstanding, 0),
        interest_minor=sum(r.interest_minor for r in inside) + max(extra, 0),
        late_fees_minor=sum(r.late_fee_minor for r in inside),
        service_fees_minor=sum(r.service_fee_minor for r in inside) + max(-extra, 0),
        charged_off_minor=charged,
        recoveries_minor=sum(r.recovery_minor for r in inside),
    )


def _months(holding: Holding, today: date) -> list[base.NoteMonth]:
    """Monthly periods from the day the holding started; a sold holding's last period
    ends on the sale day and carries the sale."""
    found: list[base.NoteMonth] = []
    k = 0
    while True:
        start = add_months(holding.started_on, k)
        if k > 0 and (start >= holding.sold_on if holding.sold_on is not None else start > today):
            return found
        end = add_months(holding.started_on, k + 1)
        last = holding.sold_on is not None and holding.sold_on <= end
        month = _month(holding, start, end, first=k == 0, last=last)
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
    nar = base.net_annualized_return(found.months)
    try:
        irr = base.xirr(found.flows) if found.flows else None
    except ValueError:
        irr = None
    return nar, irr
