"""Helpers for the secondary-market tests: a running loan whose parts can be sold."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from p2pbank import clock
from p2pbank.lending import ordering
from p2pbank.lending.models import Loan, LoanPart
from tests.services.lending_support import borrower, lender, listing


def at(day: date, hour: int = 6) -> datetime:
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    clock.set_now(moment)
    return moment


def running_loan(session, make_user, *, shares=(20_000, 25_000, 15_000)):
    """Bo's loan, funded by hand by Lena, Lars and Lou at 10, 14 and 12 %; returns
    (borrower, lenders, loan, parts in the lenders' order)."""
    bo = borrower(make_user, session)
    request = listing(session, bo, amount=sum(shares), rate=1_400)
    lenders = [lender(make_user, session, name) for name in ("Lena", "Lars", "Lou")]
    for who, share, rate in zip(lenders, shares, (1_000, 1_400, 1_200), strict=True):
        ordering.commit_to_listing(session, who.id, request.id, amount_minor=share, rate_bps=rate)
    loan = session.scalar(select(Loan).where(Loan.request_id == request.id))
    parts = [
        session.scalar(
            select(LoanPart).where(LoanPart.loan_id == loan.id, LoanPart.lender_id == who.id)
        )
        for who in lenders
    ]
    return bo, lenders, loan, parts
