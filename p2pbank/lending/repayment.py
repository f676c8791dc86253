"""The pure arithmetic of repaying a loan, on rows already loaded: what is unpaid and due,
days past due, how a payment is allocated (oldest instalment first; late fee, interest,
principal within each, after Apache Fineract's default strategy), and what an early
repayment costs today with the schedule after it. No session, no writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from p2pbank.lending import schedule as sched
from p2pbank.lending.models import (
    Instalment,
    InstalmentStatus,
    Loan,
    LoanPart,
)
from p2pbank.lending.rules import (
    accrued_interest,
    days_past_due,
)


def unpaid(rows: Sequence[Instalment]) -> list[Instalment]:
    return [i for i in rows if i.status == InstalmentStatus.SCHEDULED]


def due(rows: Sequence[Instalment], today: date) -> list[Instalment]:
    """Instalments due on or before today and not fully paid, oldest first."""
    return [i for i in unpaid(rows) if i.due_on <= today]


def loan_days_past_due(rows: Sequence[Instalment], today: date) -> int:
    overdue = [i.due_on for i in unpaid(rows) if i.due_on < today]
    return days_past_due(min(overdue) if overdue else None, today)


@dataclass
class Portion:
    """What one payment puts into one instalment, by component."""

    instalment: Instalment
    late_fee_minor: int = 0
    interest_minor: int = 0
    principal_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.late_fee_minor + self.interest_minor + self.principal_minor


def allocate_payment(rows: Sequence[Instalment], budget_minor: int) -> list[Portion]:
    """Oldest instalment first; late fee, interest, principal within each."""
    portions = []
    left = budget_minor
    for row in rows:
        if left <= 0:
            break
        portion = Portion(row)
        for component in ("late_fee", "interest", "principal"):
            owed = getattr(row, f"{component}_minor") - getattr(row, f"{component}_paid_minor")
            take = min(owed, left)
            setattr(portion, f"{component}_minor", take)
            left -= take
        if portion.total_minor:
            portions.append(portion)
    return portions


@dataclass(frozen=True)
class EarlyQuote:
    principal_minor: int  # principal repaid now
    interest_minor: int  # interest for the days since the last due date, on that principal
    prepaid_parts: tuple[int, ...]
    interest_parts: tuple[int, ...]
    rest: sched.Schedule | None  # the schedule after it; None when the loan is repaid

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.interest_minor


def schedule_from_rows(
    loan: Loan, parts: Sequence[LoanPart], rows: Sequence[Instalment]
) -> sched.Schedule:
    """The unpaid rest of the loan as a pure Schedule (parts at their outstanding)."""
    by_part = {p.id: n for n, p in enumerate(parts)}
    balance = sum(p.outstanding_minor for p in parts)
    out = []
    for row in rows:
        shares = [sched.PartPayment(0, 0)] * len(parts)
        for ip in row.parts:
            shares[by_part[ip.part_id]] = sched.PartPayment(ip.interest_minor, ip.principal_minor)
        balance -= row.principal_minor
        out.append(
            sched.Instalment(
                number=row.number,
                due_on=row.due_on,
                payment_minor=row.payment_minor,
                interest_minor=row.interest_minor,
                principal_minor=row.principal_minor,
                balance_minor=balance,
                parts=tuple(shares),
            )
        )
    return sched.Schedule(
        sched.Method(loan.method),
        loan.issued_on,
        tuple(sched.LoanPart(p.outstanding_minor, p.rate_bps) for p in parts),
        tuple(out),
    )


def quote_early(
    loan: Loan,
    parts: Sequence[LoanPart],
    rows: Sequence[Instalment],
    principal_minor: int | None,
    today: date,
) -> EarlyQuote:
    """What repaying `principal_minor` early (None: everything) costs today, and the
    schedule after it: same instalment, shorter term. Nothing may be due."""
    rest_rows = unpaid(rows)
    balance = sum(p.outstanding_minor for p in parts)
    amount = balance if principal_minor is None else principal_minor
    schedule = schedule_from_rows(loan, parts, rest_rows)
    early = sched.recompute_after_early_repayment(schedule, 0, amount)
    paid = [i for i in rows if i.status == InstalmentStatus.PAID]
    start = paid[-1].due_on if paid else loan.issued_on
    end = rest_rows[0].due_on
    interest = tuple(
        accrued_interest(prepaid, part.rate_bps, start, end, today)
        for prepaid, part in zip(early.prepaid_parts, parts, strict=True)
    )
    return EarlyQuote(
        principal_minor=amount,
        interest_minor=sum(interest),
        prepaid_parts=early.prepaid_parts,
        interest_parts=interest,
        rest=early.schedule if early.schedule.instalments else None,
    )
