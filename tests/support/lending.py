"""Lending for tests: borrowers and lenders with money, a listing, an auto-invest order,
and a loan funded by hand; plus the clock set to a day of the schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from p2pbank import clock
from p2pbank.lending import ordering, services
from p2pbank.lending.models import Loan, LoanPart
from tests.support.money import deposit

ALL_GRADES = {"A": 0, "B": 0, "C": 0, "D": 0, "E": 0}


def borrower(make_user, session, name: str = "Bo", money: int = 0):
    """A verified borrower, with `money` in the wallet."""
    user = make_user(roles=["borrower"], kyc="verified", name=name)
    if money:
        deposit(session, user.id, money)
    return user


def lender(make_user, session, name: str = "Lena", money: int = 1_000_000):
    """A verified lender, with `money` (EUR 10,000 unless told) in the wallet."""
    user = make_user(roles=["lender"], kyc="verified", name=name)
    if money:
        deposit(session, user.id, money)
    return user


def listing(session, user, amount: int = 100_000, term: int = 12, rate: int = 1_200, **kw):
    """The user's loan request, listed: a used car unless told otherwise."""
    return services.request_loan(
        session,
        user.id,
        amount_minor=amount,
        term_months=term,
        max_rate_bps=rate,
        purpose_category=kw.pop("purpose_category", "car"),
        purpose_text=kw.pop("purpose_text", "A used car to get to work"),
        **kw,
    )


def order(session, user, amount: int = 50_000, rates=None, **kw):
    """The user's auto-invest order (grade D at 8 % unless told)."""
    return ordering.place_order(
        session,
        user.id,
        amount_minor=amount,
        min_rate_bps=rates if rates is not None else {"D": 800},
        **kw,
    )


def funded_loan(session, make_user, *, amount=60_000, money=0, shares=(20_000, 25_000, 15_000)):
    """Bo's loan of `amount`, funded by hand by Lena, Lars and Lou at 10, 14 and 12 %;
    returns (borrower, lenders, loan)."""
    bo = borrower(make_user, session, money=money)
    request = listing(session, bo, amount=amount, rate=1_400)
    lenders = [lender(make_user, session, name) for name in ("Lena", "Lars", "Lou")]
    for who, share, rate in zip(lenders, shares, (1_000, 1_400, 1_200), strict=True):
        ordering.commit_to_listing(session, who.id, request.id, amount_minor=share, rate_bps=rate)
    loan = session.scalar(select(Loan).where(Loan.request_id == request.id))
    return bo, lenders, loan


def running_loan(session, make_user, *, shares=(20_000, 25_000, 15_000)):
    """A funded loan whose parts can be sold; returns (borrower, lenders, loan, parts in
    the lenders' order)."""
    bo, lenders, loan = funded_loan(session, make_user, amount=sum(shares), shares=shares)
    parts = [
        session.scalar(
            select(LoanPart).where(LoanPart.loan_id == loan.id, LoanPart.lender_id == who.id)
        )
        for who in lenders
    ]
    return bo, lenders, loan, parts


def at(day: date, hour: int = 6) -> datetime:
    """Set the clock to that day (06:00 UTC unless told) and return the moment."""
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    clock.set_now(moment)
    return moment


def instalments(session, loan) -> list:
    """The loan's instalments in order, read afresh."""
    from p2pbank.lending.models import Instalment

    session.expire_all()
    return session.scalars(
        select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.number)
    ).all()


def one_lender_loan(session, borrower_, lender_, *, amount=60_000, max_rate=1_400, rate=1_200):
    """The borrower's listing, taken whole by one lender at `rate`: the issued loan."""
    request = listing(session, borrower_, amount=amount, rate=max_rate)
    ordering.commit_to_listing(session, lender_.id, request.id, amount_minor=amount, rate_bps=rate)
    return session.scalar(select(Loan).where(Loan.request_id == request.id))
