"""Reminders the scheduled work sends ahead of time: an instalment due within three days
(once per instalment, however often or late the work runs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.lending import notices
from p2pbank.lending.models import Instalment, InstalmentStatus, Loan, LoanStatus
from p2pbank.uow import command

DAYS_AHEAD = 3


def run_due(session: Session, now: datetime) -> dict[str, int]:
    """Tell each borrower about an instalment due in the next three days."""
    today = now.date()
    rows = session.execute(
        select(Instalment, Loan)
        .join(Loan, Loan.id == Instalment.loan_id)
        .where(
            Loan.status.in_([LoanStatus.ACTIVE, LoanStatus.LATE]),
            Instalment.status == InstalmentStatus.SCHEDULED,
            Instalment.due_on > today,
            Instalment.due_on <= today + timedelta(days=DAYS_AHEAD),
        )
        .order_by(Instalment.id)
    ).all()
    sent = 0
    with command(session):
        for row, loan in rows:
            sent += notices.instalment_due_soon(session, loan, row, row.due_on)
    return {"lending.instalment_reminders": sent}
