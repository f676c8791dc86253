"""View types and small look-ups that several lending screens share: schedule rows,
listing and commitment views, the admin check and the wallet balances.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from p2pbank.identity.models import User
from p2pbank.ledger import queries as ledger_queries
from p2pbank.ledger.services import find_account
from p2pbank.lending import accounts
from p2pbank.lending.models import (
    Commitment,
    LoanRequest,
)
from p2pbank.permissions import Permission
from p2pbank.trust.badges import Badge


def oversees(user: User | None) -> bool:
    """Whether the viewer sees every member's requests, loans and orders as their owner does."""
    return user is not None and user.may(Permission.OVERSEE)


@dataclass(frozen=True)
class ScheduleRow:
    number: int
    due_on: date
    payment_minor: int
    interest_minor: int
    principal_minor: int
    balance_minor: int
    late_fee_minor: int = 0
    paid_minor: int = 0
    owed_minor: int = 0
    state: str = "upcoming"  # upcoming, due, overdue, late, paid, cancelled


@dataclass(frozen=True)
class ListingView:
    id: int
    borrower_id: int
    borrower_name: str
    grade: str
    grade_reasons: list[str]
    grade_rule_version: str
    amount_minor: int
    funded_minor: int
    open_minor: int
    progress_percent: int
    term_months: int
    max_rate_bps: int
    method: str
    purpose_category: str
    purpose_text: str
    status: str
    listed_at: datetime
    expires_at: datetime
    accept_by: datetime | None
    is_own: bool
    currency: str = "EUR"
    borrower_badge: Badge | None = None  # the member badge, on the marketplace and detail


def listing_view(request: LoanRequest, borrower_name: str, viewer_id: int | None) -> ListingView:
    return ListingView(
        id=request.id,
        borrower_id=request.borrower_id,
        borrower_name=borrower_name,
        grade=request.grade,
        grade_reasons=request.grade_reasons,
        grade_rule_version=request.grade_rule_version,
        amount_minor=request.amount_minor,
        funded_minor=request.funded_minor,
        open_minor=request.open_minor,
        progress_percent=request.funded_minor * 100 // request.amount_minor,
        term_months=request.term_months,
        max_rate_bps=request.max_rate_bps,
        method=request.method,
        purpose_category=request.purpose_category,
        purpose_text=request.purpose_text,
        status=request.status,
        listed_at=request.listed_at,
        expires_at=request.expires_at,
        accept_by=request.accept_by,
        is_own=request.borrower_id == viewer_id,
        currency=request.currency,
    )


@dataclass(frozen=True)
class CommitmentView:
    id: int
    request_id: int
    order_id: int | None
    amount_minor: int
    rate_bps: int
    status: str
    created_at: datetime


def commitment_view(c: Commitment) -> CommitmentView:
    return CommitmentView(
        c.id, c.request_id, c.order_id, c.amount_minor, c.rate_bps, c.status, c.created_at
    )


def wallet_balances(session: Session, user_id: int) -> tuple[int, int, int]:
    code = accounts.wallet_code(user_id)
    found = ledger_queries.balances(session, code) if account_exists(session, code) else None
    return (found.posted, found.held, found.available) if found else (0, 0, 0)


def account_exists(session: Session, code: str) -> bool:
    return find_account(session, code) is not None
