"""A loan with its schedule, the early-repayment quote and the repayments: for the
loan's borrower and admins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import NotFound, ValidationFailed
from p2pbank.identity.models import User
from p2pbank.lending import repayment as repay
from p2pbank.lending import rules
from p2pbank.lending.models import (
    Instalment,
    InstalmentStatus,
    Loan,
    LoanPart,
    Repayment,
)
from p2pbank.lending.read.views import ScheduleRow, oversees
from p2pbank.trust.badges import Badge, badges


def _row_state(row: Instalment, today: date) -> str:
    if row.status == InstalmentStatus.PAID:
        return "paid"
    if row.status == InstalmentStatus.CANCELLED:
        return "cancelled"
    if row.due_on > today:
        return "upcoming"
    if row.due_on == today:
        return "due"
    return "late" if rules.is_late((today - row.due_on).days) else "overdue"


def _schedule_rows(loan: Loan, rows: Sequence[Instalment], today: date) -> list[ScheduleRow]:
    balance = loan.principal_minor
    out = []
    for row in rows:
        if row.status != InstalmentStatus.CANCELLED:
            balance -= row.principal_minor
        out.append(
            ScheduleRow(
                number=row.number,
                due_on=row.due_on,
                payment_minor=row.payment_minor,
                interest_minor=row.interest_minor,
                principal_minor=row.principal_minor,
                balance_minor=max(balance, 0),
                late_fee_minor=row.late_fee_minor,
                paid_minor=row.paid_minor,
                owed_minor=row.owed_minor if row.status == InstalmentStatus.SCHEDULED else 0,
                state=_row_state(row, today),
            )
        )
    return out


@dataclass(frozen=True)
class LoanView:
    id: int
    request_id: int
    status: str
    grade: str
    principal_minor: int
    fee_minor: int
    outstanding_minor: int
    written_off_minor: int
    recovered_minor: int
    term_months: int
    method: str
    rate_bps: int
    apr_bps: int
    instalment_minor: int
    issued_at: datetime
    days_past_due: int
    arrears_bucket: str
    due_now_minor: int
    next_due_on: date | None
    next_payment_minor: int
    debt_minor: int  # after a default: what is still owed
    lenders: int
    rows: list[ScheduleRow]
    is_borrower: bool
    currency: str = "EUR"
    borrower_badge: Badge | None = None  # in loan_detail


def _loan_view(session: Session, loan: Loan, viewer_id: int | None) -> LoanView:
    today = clock.now().date()
    rows = list(
        session.scalars(
            select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.number)
        )
    )
    open_rows = repay.unpaid(rows)
    due = repay.due(rows, today)
    days = repay.loan_days_past_due(rows, today) if loan.is_open else 0
    lenders = len({p.lender_id for p in loan.parts})
    return LoanView(
        id=loan.id,
        request_id=loan.request_id,
        status=loan.status,
        grade=loan.grade,
        principal_minor=loan.principal_minor,
        fee_minor=loan.fee_minor,
        outstanding_minor=loan.outstanding_minor,
        written_off_minor=loan.written_off_minor,
        recovered_minor=loan.recovered_minor,
        term_months=loan.term_months,
        method=loan.method,
        rate_bps=loan.rate_bps,
        apr_bps=loan.apr_bps,
        instalment_minor=loan.instalment_minor,
        issued_at=loan.issued_at,
        days_past_due=days,
        arrears_bucket=rules.arrears_bucket(days),
        due_now_minor=sum(r.owed_minor for r in due) if loan.is_open else 0,
        next_due_on=open_rows[0].due_on if open_rows and loan.is_open else None,
        next_payment_minor=open_rows[0].owed_minor if open_rows and loan.is_open else 0,
        debt_minor=loan.written_off_minor - loan.recovered_minor,
        lenders=lenders,
        rows=_schedule_rows(loan, rows, today),
        is_borrower=loan.borrower_id == viewer_id,
        currency=loan.currency,
    )


def seen_loan(session: Session, viewer: User, loan_id: int) -> Loan:
    """The loan, for its borrower and whoever oversees loans; to anyone else another
    person's loan is a 404, as if there were none."""
    loan = session.get(Loan, loan_id)
    if loan is None or (loan.borrower_id != viewer.id and not oversees(viewer)):
        raise NotFound("No such loan.")
    return loan


def loan_detail(session: Session, viewer: User, loan_id: int) -> LoanView:
    """The loan with its full schedule: for its borrower and admins."""
    loan = seen_loan(session, viewer, loan_id)
    badge = badges(session, [loan.borrower_id]).get(loan.borrower_id)
    return replace(_loan_view(session, loan, viewer.id), borrower_badge=badge)


def my_loans(session: Session, borrower_id: int) -> list[LoanView]:
    loans = session.scalars(
        select(Loan).where(Loan.borrower_id == borrower_id).order_by(Loan.id.desc())
    ).all()
    return [_loan_view(session, loan, borrower_id) for loan in loans]


@dataclass(frozen=True)
class EarlyQuoteView:
    principal_minor: int
    interest_minor: int
    total_minor: int
    remaining_minor: int
    new_term_months: int
    instalment_minor: int
    rows: list[ScheduleRow]


def early_quote(
    session: Session, borrower_id: int, loan_id: int, principal_minor: int | None = None
) -> EarlyQuoteView:
    """What an early repayment costs today and the schedule after it (nothing is written)."""
    loan = session.get(Loan, loan_id)
    if loan is None or loan.borrower_id != borrower_id:
        raise NotFound("No such loan.")
    if not loan.is_open:
        raise ValidationFailed("Only a running loan can be repaid early.")
    if principal_minor is not None and (
        type(principal_minor) is not int or not 0 < principal_minor <= loan.outstanding_minor
    ):
        message = "Repay from 1 cent to the principal outstanding."
        raise ValidationFailed.on("principal_minor", message)
    rows = list(
        session.scalars(
            select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.number)
        )
    )
    parts = list(
        session.scalars(select(LoanPart).where(LoanPart.loan_id == loan.id).order_by(LoanPart.id))
    )
    quote = repay.quote_early(loan, parts, rows, principal_minor, clock.now().date())
    rest = quote.rest.instalments if quote.rest else ()
    return EarlyQuoteView(
        principal_minor=quote.principal_minor,
        interest_minor=quote.interest_minor,
        total_minor=quote.total_minor,
        remaining_minor=loan.outstanding_minor - quote.principal_minor,
        new_term_months=len(rest),
        instalment_minor=rest[0].payment_minor if rest else 0,
        rows=[
            ScheduleRow(
                number=i.number,
                due_on=i.due_on,
                payment_minor=i.payment_minor,
                interest_minor=i.interest_minor,
                principal_minor=i.principal_minor,
                balance_minor=i.balance_minor,
                owed_minor=i.payment_minor,
            )
            for i in rest
        ],
    )


def repayments_of(session: Session, viewer: User, loan_id: int) -> list[Repayment]:
    loan = seen_loan(session, viewer, loan_id)
    return list(
        session.scalars(
            select(Repayment).where(Repayment.loan_id == loan.id).order_by(Repayment.id)
        )
    )
