"""Lending's scheduled work, run by the jobs: end expired listings and acceptance windows,
collect due instalments, mark arrears and defaults, re-run matching. Each loan is its
own command, so one failure never stops the others.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.lending import arrears, funding, issuing, servicing
from p2pbank.lending import repayment as repay
from p2pbank.lending.models import (
    Instalment,
    InstalmentStatus,
    Loan,
    LoanRequest,
    LoanStatus,
    Repayment,
    RepaymentKind,
    RequestStatus,
)
from p2pbank.lending.rules import (
    POLICY,
)
from p2pbank.uow import command


def run_due_lending(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Everything lending must do by `now`: end listing windows (partial funding waits 48
    hours for the borrower, else the money is released), collect due instalments from
    wallets, charge late fees, move loans to late / back to active / defaulted, collect
    recoveries, and re-run matching over the whole book. Each listing and each loan is its
    own transaction, so one refusal never undoes the others' work."""
    now = now or clock.now()
    done = {
        "listings_expired": 0,
        "awaiting_acceptance": 0,
        "repayments": 0,
        "late_fees": 0,
        "defaults": 0,
        "recoveries": 0,
        "loans_issued": 0,
    }
    ending = session.scalars(
        select(LoanRequest.id)
        .where(
            LoanRequest.status == RequestStatus.LISTED,
            LoanRequest.expires_at <= now,
        )
        .order_by(LoanRequest.id)
    ).all()
    for request_id in ending:
        outcome = _end_window(session, request_id, now)
        if outcome:
            done[outcome] += 1
    lapsed = session.scalars(
        select(LoanRequest.id)
        .where(
            LoanRequest.status == RequestStatus.AWAITING_ACCEPTANCE,
            LoanRequest.accept_by <= now,
        )
        .order_by(LoanRequest.id)
    ).all()
    for request_id in lapsed:
        with command(session):
            locked = funding.lock_requests(session, [request_id])
            request = locked[0]
            if request.status == RequestStatus.AWAITING_ACCEPTANCE and request.accept_by <= now:
                issuing.release_request(
                    session,
                    request,
                    RequestStatus.EXPIRED,
                    now=now,
                    reason="the borrower did not accept the partial funding in time",
                )
                done["listings_expired"] += 1
    loans_due = session.scalars(
        select(Loan.id)
        .where(
            Loan.status.in_([LoanStatus.ACTIVE, LoanStatus.LATE]),
            Loan.id.in_(
                select(Instalment.loan_id).where(
                    Instalment.status == InstalmentStatus.SCHEDULED,
                    Instalment.due_on <= now.date(),
                )
            ),
        )
        .order_by(Loan.id)
    ).all()
    for loan_id in loans_due:
        with command(session):
            _service_loan(session, loan_id, now, done)
    defaulted = session.scalars(
        select(Loan.id)
        .where(
            Loan.status == LoanStatus.DEFAULTED,
            Loan.recovered_minor < Loan.written_off_minor,
        )
        .order_by(Loan.id)
    ).all()
    for loan_id in defaulted:
        with command(session):
            loan = servicing.lock_loan(session, loan_id)
            assert loan is not None
            budget = servicing.available(session, loan.borrower_id)
            if budget > 0:
                key = f"lending:loan:{loan.id}:collect:{_repayment_count(session, loan) + 1}"
                if arrears.recover(session, loan, budget, key=key, now=now):
                    done["recoveries"] += 1
    with command(session):
        listings = funding.lock_open_listings(session, now)
        orders = funding.lock_active_orders(session)
        done["loans_issued"] += len(
            funding.match(session, listings, orders, trigger="rematch", now=now)
        )
    return done


def _end_window(session: Session, request_id: int, now: datetime) -> str | None:
    with command(session):
        request = funding.lock_requests(session, [request_id])[0]
        if request.status != RequestStatus.LISTED or request.expires_at > now:
            return None
        if request.funded_minor > 0 and request.funded_minor >= issuing.min_acceptable(request):
            request.move_to(RequestStatus.AWAITING_ACCEPTANCE)
            request.accept_by = request.expires_at + timedelta(hours=POLICY.accept_hours)
            return "awaiting_acceptance"
        issuing.release_request(
            session,
            request,
            RequestStatus.EXPIRED,
            now=now,
            reason="the listing window ended below the 70% needed",
        )
        return "listings_expired"


def _repayment_count(session: Session, loan: Loan) -> int:
    return session.scalar(select(func.count(Repayment.id)).where(Repayment.loan_id == loan.id)) or 0


def _service_loan(session: Session, loan_id: int, now: datetime, done: dict[str, int]) -> None:
    loan = servicing.lock_loan(session, loan_id)
    if loan is None or not loan.is_open:
        return
    rows = servicing.instalments(session, loan)
    done["late_fees"] += arrears.charge_late_fees(session, loan, rows, now)
    due = repay.due(rows, now.date())
    budget = min(servicing.available(session, loan.borrower_id), sum(r.owed_minor for r in due))
    if budget > 0:
        portions = repay.allocate_payment(due, budget)
        key = f"lending:loan:{loan.id}:collect:{_repayment_count(session, loan) + 1}"
        servicing.pay_instalments(
            session, loan, portions, kind=RepaymentKind.SCHEDULED, key=key, now=now
        )
        done["repayments"] += 1
    if arrears.refresh_status(session, loan, rows, now) == LoanStatus.DEFAULTED:
        done["defaults"] += 1
