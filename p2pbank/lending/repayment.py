"""The pure arithmetic of repaying a loan, on rows already loaded: what is unpaid and due,
days past due, how a payment is allocated (oldest instalment first; late fee, interest,
principal within each, after Apache Fineract's default strategy), the plan of what every
instalment, part and lender receives from it, and what an early repayment costs today with
the schedule after it. No session, no writes: the commands in servicing.py apply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, Protocol, TypeVar

from p2pbank.lending import schedule as sched
from p2pbank.lending.models import (
    Instalment,
    InstalmentStatus,
    Loan,
    LoanPart,
)
from p2pbank.lending.rules import (
    POLICY,
    accrued_interest,
    days_past_due,
    servicing_fees,
    split_by_remaining,
)


def unpaid(rows: Sequence[Instalment]) -> list[Instalment]:
    return [i for i in rows if i.status == InstalmentStatus.SCHEDULED]


def due(rows: Sequence[Instalment], today: date) -> list[Instalment]:
    """Instalments due on or before today and not fully paid, oldest first."""
    return [i for i in unpaid(rows) if i.due_on <= today]


def loan_days_past_due(rows: Sequence[Instalment], today: date) -> int:
    overdue = [i.due_on for i in unpaid(rows) if i.due_on < today]
    return days_past_due(min(overdue) if overdue else None, today)


class Owing(Protocol):
    """A row that owes each component and records what of it was paid: an instalment, or
    one part's share of an instalment."""

    @property
    def late_fee_minor(self) -> int: ...
    @property
    def interest_minor(self) -> int: ...
    @property
    def principal_minor(self) -> int: ...
    @property
    def late_fee_paid_minor(self) -> int: ...
    @property
    def interest_paid_minor(self) -> int: ...
    @property
    def principal_paid_minor(self) -> int: ...


class OwingPart(Owing, Protocol):
    @property
    def part_id(self) -> int: ...


class OwingRow(Owing, Protocol):
    @property
    def due_on(self) -> date: ...
    @property
    def parts(self) -> Sequence[OwingPart]: ...


R = TypeVar("R", bound=OwingRow)


@dataclass(frozen=True)
class Components:
    """Money by repayment component, in the order a payment settles them (Fineract's
    default strategy): late fee, interest, principal."""

    late_fee_minor: int = 0
    interest_minor: int = 0
    principal_minor: int = 0

    def __add__(self, other: Components) -> Components:
        return Components(
            self.late_fee_minor + other.late_fee_minor,
            self.interest_minor + other.interest_minor,
            self.principal_minor + other.principal_minor,
        )

    def __sub__(self, other: Components) -> Components:
        return Components(
            self.late_fee_minor - other.late_fee_minor,
            self.interest_minor - other.interest_minor,
            self.principal_minor - other.principal_minor,
        )

    @property
    def total_minor(self) -> int:
        return self.late_fee_minor + self.interest_minor + self.principal_minor

    @property
    def fee_bearing_minor(self) -> int:
        """What the servicing fee is charged on: interest and principal (late fees go to
        the lenders in full)."""
        return self.interest_minor + self.principal_minor

    def take(self, budget_minor: int) -> Components:
        """What a budget pays of this (owed) amount: late fee, then interest, then
        principal."""
        late_fee = min(self.late_fee_minor, budget_minor)
        budget_minor -= late_fee
        interest = min(self.interest_minor, budget_minor)
        budget_minor -= interest
        return Components(late_fee, interest, min(self.principal_minor, budget_minor))

    def split(self, owed: Sequence[Components]) -> list[Components]:
        """Share each component among parts in proportion to what each is still owed for
        it (largest remainder): the shares add up exactly and never exceed what is owed."""

        def each(amount: int, remaining: list[int]) -> list[int]:
            return split_by_remaining(amount, remaining) if amount else [0] * len(remaining)

        late_fees = each(self.late_fee_minor, [o.late_fee_minor for o in owed])
        interest = each(self.interest_minor, [o.interest_minor for o in owed])
        principal = each(self.principal_minor, [o.principal_minor for o in owed])
        return [Components(*c) for c in zip(late_fees, interest, principal, strict=True)]

    @classmethod
    def due_on(cls, row: Owing) -> Components:
        return cls(row.late_fee_minor, row.interest_minor, row.principal_minor)

    @classmethod
    def paid_on(cls, row: Owing) -> Components:
        return cls(row.late_fee_paid_minor, row.interest_paid_minor, row.principal_paid_minor)

    @classmethod
    def owed_on(cls, row: Owing) -> Components:
        """What the row still owes, by component."""
        return cls.due_on(row) - cls.paid_on(row)


ZERO = Components()


def total(amounts: Iterable[Components]) -> Components:
    return sum(amounts, ZERO)


@dataclass(frozen=True)
class Portion(Generic[R]):
    """What one payment puts into one instalment, by component."""

    instalment: R
    paid: Components

    @property
    def total_minor(self) -> int:
        return self.paid.total_minor


def allocate_payment(rows: Sequence[R], budget_minor: int) -> list[Portion[R]]:
    """Oldest instalment first; late fee, interest, principal within each."""
    portions = []
    left = budget_minor
    for row in rows:
        if left <= 0:
            break
        paid = Components.owed_on(row).take(left)
        left -= paid.total_minor
        if paid.total_minor:
            portions.append(Portion(row, paid))
    return portions


@dataclass(frozen=True)
class InstalmentPlan(Generic[R]):
    """What one instalment receives and how it is shared among its parts."""

    instalment: R
    paid: Components
    to_parts: tuple[Components, ...]  # in the order of instalment.parts
    settled: bool  # paid in full by this payment
    days_late: int  # when settled: days past its due date (0: on time)


@dataclass(frozen=True)
class Plan(Generic[R]):
    """Everything one payment does, computed before anything is written: what each
    instalment and each of its parts receives, what each loan part receives and its
    servicing fee."""

    instalments: tuple[InstalmentPlan[R], ...]
    parts: tuple[Components, ...]  # in the order of the loan's parts
    fees: tuple[int, ...]  # each loan part's servicing fee

    @property
    def paid(self) -> Components:
        return total(self.parts)

    @property
    def servicing_fee_minor(self) -> int:
        return sum(self.fees)

    @property
    def settled(self) -> tuple[InstalmentPlan[R], ...]:
        return tuple(i for i in self.instalments if i.settled)


def plan(part_ids: Sequence[int], portions: Sequence[Portion[R]], today: date) -> Plan[R]:
    """Share the portions (one per instalment, as `allocate_payment` makes them) among the
    instalments' parts by what each is owed, add up what each loan part receives, and
    charge each its servicing fee. Pure: reads the rows, changes nothing."""
    index = {part_id: n for n, part_id in enumerate(part_ids)}
    received = [ZERO] * len(part_ids)
    steps = []
    for portion in portions:
        row = portion.instalment
        to_parts = portion.paid.split([Components.owed_on(ip) for ip in row.parts])
        for ip, share in zip(row.parts, to_parts, strict=True):
            received[index[ip.part_id]] += share
        settled = Components.owed_on(row).total_minor == portion.total_minor
        days_late = max((today - row.due_on).days, 0) if settled else 0
        steps.append(InstalmentPlan(row, portion.paid, tuple(to_parts), settled, days_late))
    fees = servicing_fees([r.fee_bearing_minor for r in received], POLICY)
    return Plan(tuple(steps), tuple(received), tuple(fees))


@dataclass(frozen=True)
class LenderTotal:
    """What one lender's parts receive from one payment, before and after the fee."""

    lender_id: int
    gross_minor: int
    principal_minor: int
    fee_minor: int

    def __add__(self, other: LenderTotal) -> LenderTotal:
        assert other.lender_id == self.lender_id
        return LenderTotal(
            self.lender_id,
            self.gross_minor + other.gross_minor,
            self.principal_minor + other.principal_minor,
            self.fee_minor + other.fee_minor,
        )

    @property
    def net_minor(self) -> int:
        return self.gross_minor - self.fee_minor


def lender_totals(
    lender_ids: Sequence[int],
    received: Sequence[Components],
    fees: Sequence[int],
    recovery: Sequence[int] | None = None,
) -> list[LenderTotal]:
    """Each lender's parts added up (parts that receive nothing are left out), by lender
    id: one set of legs per lender in the repayment entry."""
    totals: dict[int, LenderTotal] = {}
    for n, lender_id in enumerate(lender_ids):
        gross = received[n].total_minor + (recovery[n] if recovery else 0)
        if gross == 0:
            continue
        this = LenderTotal(lender_id, gross, received[n].principal_minor, fees[n])
        totals[lender_id] = totals[lender_id] + this if lender_id in totals else this
    return [totals[lender_id] for lender_id in sorted(totals)]


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
            sched.ScheduledInstalment(
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
        tuple(sched.ScheduledPart(p.outstanding_minor, p.rate_bps) for p in parts),
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
