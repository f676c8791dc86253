"""The borrower's dashboard: wallet, grade, limit, requests and loans, and whether a new
request may be listed now.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.lending.eligibility import borrowing_limit, grade_borrower
from p2pbank.lending.read.loans import LoanView, my_loans
from p2pbank.lending.read.market import my_requests
from p2pbank.lending.read.views import ListingView, wallet_balances
from p2pbank.lending.rules import POLICY


@dataclass(frozen=True)
class BorrowerDashboard:
    available_minor: int
    limit_minor: int
    limit_reason: str
    grade: str
    grade_reasons: tuple[str, ...]
    grade_rule_version: str
    can_request: bool
    requests: list[ListingView]
    loans: list[LoanView]
    terms_months: tuple[int, ...] = field(default_factory=lambda: POLICY.terms_months)
    currency: str = "EUR"


def borrower_dashboard(session: Session, borrower_id: int) -> BorrowerDashboard:
    now = clock.now()
    _posted, _held, available = wallet_balances(session, borrower_id)
    limit = borrowing_limit(session, borrower_id)
    grade = grade_borrower(session, borrower_id, now)
    requests = my_requests(session, borrower_id)
    loans = my_loans(session, borrower_id)
    busy = any(r.status in ("listed", "awaiting_acceptance") for r in requests) or any(
        loan.status in ("active", "late") or (loan.status == "defaulted" and loan.debt_minor > 0)
        for loan in loans
    )
    return BorrowerDashboard(
        available_minor=available,
        limit_minor=limit.amount_minor,
        limit_reason=limit.reason,
        grade=grade.grade,
        grade_reasons=grade.reasons,
        grade_rule_version=grade.version,
        can_request=not busy,
        requests=requests,
        loans=loans,
    )
