"""What a part is worth to a buyer today, read from the loan's instalments; no writes.

Shared by the services (which price a sale under the loan's lock) and the read models
(which show the same lines before anyone commits), so the figure shown is the one paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from p2pbank.lending import repayment
from p2pbank.lending.models import Instalment, Loan, LoanPart
from p2pbank.resale import rules


@dataclass(frozen=True)
class PartState:
    """The part as a buyer would take it over today."""

    outstanding_minor: int
    accrued_minor: int
    days_past_due: int
    months_left: int
    next_due_on: date | None


def unpaid_interest(
    loan: Loan, part_id: int, rows: Sequence[Instalment]
) -> list[rules.UnpaidInterest]:
    """The part's unpaid interest per unpaid instalment, with each instalment's period."""
    found = []
    previous = loan.issued_on
    for row in rows:
        start, previous = previous, row.due_on
        if row.status != "scheduled":
            continue
        for ip in row.parts:
            if ip.part_id == part_id:
                owed = ip.interest_minor - ip.interest_paid_minor
                found.append(rules.UnpaidInterest(start, row.due_on, owed))
    return found


def part_state(loan: Loan, part: LoanPart, rows: Sequence[Instalment], today: date) -> PartState:
    open_rows = repayment.unpaid(rows)
    return PartState(
        outstanding_minor=part.outstanding_minor,
        accrued_minor=rules.accrued_interest(unpaid_interest(loan, part.id, rows), today),
        days_past_due=repayment.loan_days_past_due(rows, today) if loan.is_open else 0,
        months_left=len(open_rows),
        next_due_on=open_rows[0].due_on if open_rows else None,
    )


def quote_for(state: PartState, premium_bps: int) -> rules.Quote:
    return rules.quote(state.outstanding_minor, premium_bps, state.accrued_minor)
