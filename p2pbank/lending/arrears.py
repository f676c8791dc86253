"""Arrears: late fees on overdue instalments, the loan's status from its days past due,
default with the write-off of what the lenders lose, and recoveries after a default
(shared pro rata to what each part had written off). Flush-only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank.lending import accounts, notices
from p2pbank.lending.models import (
    EventKind,
    Instalment,
    InstalmentStatus,
    Loan,
    LoanStatus,
    Repayment,
    RepaymentKind,
    WriteOff,
)
from p2pbank.lending.repayment import ZERO, loan_days_past_due, unpaid
from p2pbank.lending.rules import (
    POLICY,
    days_past_due,
    is_default,
    is_late,
    late_fee,
    servicing_fees,
    split_by_remaining,
)
from p2pbank.lending.servicing import (
    lock_for_payment,
    open_ratings,
    parts_of,
    post_to_lenders,
    record_repayment_event,
)
from p2pbank.money import allocate


def charge_late_fees(
    session: Session, loan: Loan, rows: Sequence[Instalment], now: datetime
) -> int:
    """Charge the late fee, once, on every instalment past the grace period."""
    today = now.date()
    charged = 0
    for row in unpaid(rows):
        if row.late_fee_charged_at is not None:
            continue
        if not is_late(days_past_due(row.due_on, today)):
            continue
        fee = late_fee(row.payment_minor, POLICY)
        weights = [ip.principal_minor + ip.interest_minor for ip in row.parts]
        if sum(weights) == 0:
            weights = [1] * len(row.parts)
        for ip, share in zip(row.parts, allocate(fee, weights), strict=True):
            ip.late_fee_minor = share
        row.late_fee_minor = fee
        row.late_fee_charged_at = now
        charged += 1
    return charged


def refresh_status(
    session: Session, loan: Loan, rows: Sequence[Instalment], now: datetime
) -> str | None:
    """Move the loan between active, late and defaulted by its days past due. Returns the
    new status when it changed."""
    if not loan.is_open:
        return None
    today = now.date()
    if not unpaid(rows) and loan.outstanding_minor == 0:
        loan.move_to(LoanStatus.REPAID)
        loan.closed_at = now
        open_ratings(session, loan, now=now)
        return LoanStatus.REPAID
    days = loan_days_past_due(rows, today)
    if is_default(days, POLICY):
        default_loan(session, loan, rows, now=now, days=days)
        return LoanStatus.DEFAULTED
    if is_late(days, POLICY) and loan.status == LoanStatus.ACTIVE:
        loan.move_to(LoanStatus.LATE)
        loan.ever_late = True
        oldest = min(unpaid(rows), key=lambda r: r.due_on, default=None)
        lenders = {p.lender_id for p in parts_of(session, loan)}
        notices.loan_late(session, loan, oldest, days, lenders)
        return LoanStatus.LATE
    if not is_late(days, POLICY) and loan.status == LoanStatus.LATE:
        loan.move_to(LoanStatus.ACTIVE)
        cured = max(
            ((i.paid_at.date() - i.due_on).days for i in rows if i.paid_at and i.late_fee_minor),
            default=0,
        )
        record_repayment_event(
            session, loan=loan, kind=EventKind.CURED, occurred_at=now, days_late=cured
        )
        return LoanStatus.ACTIVE
    return None


def default_loan(
    session: Session, loan: Loan, rows: Sequence[Instalment], *, now: datetime, days: int
) -> None:
    """120 days past due: write the remaining principal off the lenders' books."""
    parts = parts_of(session, loan)
    lock_for_payment(session, loan, parts)
    owed = accounts.owed_code(loan.borrower_id)
    by_lender: dict[int, int] = defaultdict(int)
    for part in parts:
        by_lender[part.lender_id] += part.outstanding_minor
    legs = [
        accounts.LenderLegs(
            lender_id=lender, wallet_minor=0, lent_minor=-amount, common={owed: amount}
        )
        for lender, amount in sorted(by_lender.items())
        if amount
    ]
    entry_id = None
    if legs:
        entries = accounts.post_with_lenders(
            session,
            lenders=legs,
            kind="loan_write_off",
            idempotency_key=f"lending:loan:{loan.id}:write_off",
            ref_type="loan",
            ref_id=loan.id,
            memo=f"Loan {loan.id} defaulted at {days} days past due: principal written off",
        )
        entry_id = entries[0].id
    for part in parts:
        if part.outstanding_minor:
            session.add(
                WriteOff(
                    loan_id=loan.id,
                    part_id=part.id,
                    lender_id=part.lender_id,
                    amount_minor=part.outstanding_minor,
                    entry_id=entry_id,
                    created_at=now,
                )
            )
            part.written_off_minor = part.outstanding_minor
            part.outstanding_minor = 0
    loan.written_off_minor = loan.outstanding_minor
    loan.outstanding_minor = 0
    loan.write_off_entry_id = entry_id
    loan.move_to(LoanStatus.DEFAULTED)
    loan.defaulted_at = now
    for row in unpaid(rows):
        row.status = InstalmentStatus.CANCELLED
    record_repayment_event(
        session, loan=loan, kind=EventKind.DEFAULT, occurred_at=now, days_late=days
    )
    notices.loan_defaulted(session, loan, {p.lender_id for p in parts})
    open_ratings(session, loan, parts, now=now)
    session.flush()


def recover(
    session: Session, loan: Loan, budget_minor: int, *, key: str, now: datetime
) -> Repayment | None:
    """A payment after default, shared pro rata to what each part had written off."""
    remaining = loan.written_off_minor - loan.recovered_minor
    amount = min(budget_minor, remaining)
    if amount <= 0:
        return None
    parts = parts_of(session, loan)
    shares = split_by_remaining(amount, [p.written_off_minor - p.recovered_minor for p in parts])
    fees = servicing_fees(shares, POLICY)
    lock_for_payment(session, loan, parts)
    repayment = Repayment(
        loan_id=loan.id,
        kind=RepaymentKind.RECOVERY,
        amount_minor=amount,
        recovery_minor=amount,
        servicing_fee_minor=sum(fees),
        idempotency_key=key,
        created_at=now,
    )
    nothing = [ZERO] * len(parts)  # no instalment component: all of it is recovery
    post_to_lenders(session, loan, repayment, parts, nothing, fees, now=now, recovery=shares)
    for part, share in zip(parts, shares, strict=True):
        part.recovered_minor += share
    loan.recovered_minor += amount
    if loan.recovered_minor == loan.written_off_minor:
        loan.closed_at = now
        record_repayment_event(session, loan=loan, kind=EventKind.RECOVERED, occurred_at=now)
    return repayment
