"""What a borrower may ask for: the grade (published by the trust engine, or the interim one)
and the borrowing limit. Read by the commands (listing a request) and by the pages alike,
so it lives beside both rather than on the read side.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import reputation as scores
from p2pbank.lending import grading, rules
from p2pbank.lending.models import (
    Loan,
    LoanStatus,
    RepaymentEvent,
)
from p2pbank.lending.rules import POLICY
from p2pbank.trust import services as trust_services


def grade_borrower(session: Session, borrower_id: int, now: datetime) -> grading.Grade:
    """The grade the trust engine published for this borrower (issue 6); before it ever
    scored them, the interim grade (see grading.py) from their events here."""
    published = trust_services.published_grade(session, borrower_id)
    if published is not None:
        return grading.Grade(
            published.grade, round(published.points, 2), published.reasons, published.version
        )
    events = [
        scores.RepaymentEvent(
            kind=scores.EventKind(e.kind), days_late=e.days_late, time=e.occurred_at
        )
        for e in session.scalars(
            select(RepaymentEvent)
            .where(RepaymentEvent.borrower_id == borrower_id)
            .order_by(RepaymentEvent.id)
        )
    ]
    first = session.scalar(
        select(Loan.issued_at).where(Loan.borrower_id == borrower_id).order_by(Loan.issued_at)
    )
    return grading.grade_borrower(events, first, now)


def borrowing_limit(session: Session, borrower_id: int) -> rules.Limit:
    """The limit ladder over the borrower's finished loans, oldest first."""
    finished = session.scalars(
        select(Loan)
        .where(
            Loan.borrower_id == borrower_id,
            Loan.status.in_([LoanStatus.REPAID, LoanStatus.DEFAULTED]),
        )
        .order_by(Loan.closed_at, Loan.defaulted_at, Loan.id)
    )
    history = [
        rules.PastLoan(
            principal_minor=loan.principal_minor,
            on_time=loan.status == LoanStatus.REPAID and not loan.ever_late,
        )
        for loan in finished
    ]
    return rules.borrowing_limit(history, POLICY)
