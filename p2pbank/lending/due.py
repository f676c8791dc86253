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
    own transaction, so one refusal never undoes the others' work. The scheduler runs the
    same units (`*_due` scans, one unit function per listing or loan) one task each."""
    now = now or clock.now()
    done = dict.fromkeys(COUNTS, 0)
    for scan, unit in (
        (listings_to_end, end_listing),
        (acceptances_lapsed, lapse_acceptance),
        (loans_due, collect_loan),
        (loans_to_recover, recover_loan),
    ):
        for unit_id in scan(session, now):
            for name, count in unit(session, unit_id, now).items():
                done[name] += count
    done["loans_issued"] += rematch(session, now)["loans_issued"]
    return done


COUNTS = (
    "listings_expired",
    "awaiting_acceptance",
    "repayments",
    "late_fees",
    "defaults",
    "recoveries",
    "loans_issued",
)


def listings_to_end(session: Session, now: datetime) -> list[int]:
    """Listings whose window has ended (one unit each: `end_listing`)."""
    return list(
        session.scalars(
            select(LoanRequest.id)
            .where(LoanRequest.status == RequestStatus.LISTED, LoanRequest.expires_at <= now)
            .order_by(LoanRequest.id)
        )
    )


def end_listing(session: Session, request_id: int, now: datetime) -> dict[str, int]:
    """End one listing's window; a no-op when it already ended (idempotent)."""
    outcome = _end_window(session, request_id, now)
    return {outcome: 1} if outcome else {}


def acceptances_lapsed(session: Session, now: datetime) -> list[int]:
    """Partly funded listings the borrower did not accept in time (`lapse_acceptance`)."""
    return list(
        session.scalars(
            select(LoanRequest.id)
            .where(
                LoanRequest.status == RequestStatus.AWAITING_ACCEPTANCE,
                LoanRequest.accept_by <= now,
            )
            .order_by(LoanRequest.id)
        )
    )


def lapse_acceptance(session: Session, request_id: int, now: datetime) -> dict[str, int]:
    """Release one unaccepted listing's money; a no-op once released (idempotent)."""
    with command(session):
        request = funding.lock_requests(session, [request_id])[0]
        if request.status != RequestStatus.AWAITING_ACCEPTANCE or request.accept_by > now:
            return {}
        issuing.release_request(
            session,
            request,
            RequestStatus.EXPIRED,
            now=now,
            reason="the borrower did not accept the partial funding in time",
        )
    return {"listings_expired": 1}


def loans_due(session: Session, now: datetime) -> list[int]:
    """Open loans with an instalment due by `now` (one unit each: `collect_loan`)."""
    return list(
        session.scalars(
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
        )
    )


def collect_loan(session: Session, loan_id: int, now: datetime) -> dict[str, int]:
    """Charge late fees, collect what is due from the borrower's wallet and move the loan's
    status, in one transaction. Run twice, the second finds nothing due (the instalments
    are paid) and the repayment's idempotency key refuses a second posting."""
    done = {"repayments": 0, "late_fees": 0, "defaults": 0}
    with command(session):
        _service_loan(session, loan_id, now, done)
    return done


def loans_to_recover(session: Session, now: datetime) -> list[int]:
    """Defaulted loans not yet recovered in full (`recover_loan`)."""
    return list(
        session.scalars(
            select(Loan.id)
            .where(
                Loan.status == LoanStatus.DEFAULTED,
                Loan.recovered_minor < Loan.written_off_minor,
            )
            .order_by(Loan.id)
        )
    )


def recover_loan(session: Session, loan_id: int, now: datetime) -> dict[str, int]:
    """Collect what the borrower of a defaulted loan has towards what was written off."""
    with command(session):
        loan = servicing.lock_loan(session, loan_id)
        if loan is None or loan.recovered_minor >= loan.written_off_minor:
            return {}
        budget = servicing.available(session, loan.borrower_id)
        if budget > 0:
            key = f"lending:loan:{loan.id}:collect:{_repayment_count(session, loan) + 1}"
            if arrears.recover(session, loan, budget, key=key, now=now):
                return {"recoveries": 1}
    return {}


def rematch(session: Session, now: datetime) -> dict[str, int]:
    """Re-run matching over the whole book (one transaction; lenders' orders meet open
    listings that appeared or changed since)."""
    with command(session):
        listings = funding.lock_open_listings(session, now)
        orders = funding.lock_active_orders(session)
        issued = len(funding.match(session, listings, orders, trigger="rematch", now=now))
    return {"loans_issued": issued}


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
