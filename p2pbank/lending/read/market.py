"""The marketplace and a listing's page: open listings with the lender's filters, the match
explanations (another lender's skipped orders only as counts per reason) and the
borrower's own requests. Listings open for funding are public to members; afterwards
only their borrower, the lenders who committed and admins see them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import NotFound, ValidationFailed
from p2pbank.identity.models import User
from p2pbank.lending import issuing, offers
from p2pbank.lending.models import (
    Commitment,
    Loan,
    LoanRequest,
    MatchRecord,
    RequestStatus,
)
from p2pbank.lending.read.schedules import SchedulePreview, acceptance_preview
from p2pbank.lending.read.views import (
    CommitmentView,
    ListingView,
    commitment_view,
    listing_view,
    oversees,
)
from p2pbank.paging import Paged, paginate
from p2pbank.trust.badges import badges

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class MarketPage(Paged):
    listings: list[ListingView]


def marketplace(
    session: Session,
    viewer_id: int | None,
    *,
    grade: Sequence[str] | None = None,
    term_months: int | None = None,
    purpose_category: str | None = None,
    min_rate_bps: int | None = None,
    min_remaining_minor: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> MarketPage:
    """Listings open for funding, newest first, with the filters a lender uses."""
    if type(page) is not int or page < 1 or type(per_page) is not int:
        raise ValidationFailed("page must be 1 or more", field_errors={"page": ["Must be >= 1."]})
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    now = clock.now()
    stmt = (
        select(LoanRequest, User.display_name)
        .join(User, User.id == LoanRequest.borrower_id)
        .where(LoanRequest.status == RequestStatus.LISTED, LoanRequest.expires_at > now)
    )
    if grade:
        stmt = stmt.where(LoanRequest.grade.in_(list(grade)))
    if term_months is not None:
        stmt = stmt.where(LoanRequest.term_months == term_months)
    if purpose_category:
        stmt = stmt.where(LoanRequest.purpose_category == purpose_category)
    if min_rate_bps is not None:
        stmt = stmt.where(LoanRequest.max_rate_bps >= min_rate_bps)
    if min_remaining_minor is not None:
        stmt = stmt.where(
            LoanRequest.amount_minor - LoanRequest.funded_minor >= min_remaining_minor
        )
    ordered = stmt.order_by(LoanRequest.listed_at.desc(), LoanRequest.id.desc())
    rows, total = paginate(session, ordered, page, per_page)
    found = badges(session, [r.borrower_id for r, _name in rows])
    views = [
        replace(listing_view(r, name, viewer_id), borrower_badge=found.get(r.borrower_id))
        for r, name in rows
    ]
    return MarketPage(views, page=page, per_page=per_page, total=total)


@dataclass(frozen=True)
class FillView:
    amount_minor: int
    rate_bps: int
    mine: bool


@dataclass(frozen=True)
class SkipView:
    reason: str
    text: str
    mine: bool
    count: int = 1


@dataclass(frozen=True)
class MatchView:
    id: int
    trigger: str
    created_at: datetime
    filled_minor: int
    funded_after_minor: int
    weighted_rate_bps: int | None
    rule: str
    fills: list[FillView]
    skipped: list[SkipView]


def _match_view(record: MatchRecord, viewer: User | None) -> MatchView:
    """Fills show amount and rate; skipped offers show their reason -- with the text for
    the viewer's own offers (or to an admin), as counts per reason for everyone else's."""
    data = record.explanation
    viewer_id = viewer.id if viewer else None
    admin = oversees(viewer)
    fills = [
        FillView(f["amount_minor"], f["rate_bps"], f["lender_id"] == viewer_id)
        for f in data["fills"]
    ]
    skipped: list[SkipView] = []
    others: dict[str, int] = defaultdict(int)
    for s in data["skipped"]:
        if s["lender_id"] == viewer_id or admin:
            skipped.append(SkipView(s["reason"], s["text"], s["lender_id"] == viewer_id))
        else:
            others[s["reason"]] += 1
    for reason, count in sorted(others.items()):
        skipped.append(SkipView(reason, _REASON_TEXT.get(reason, reason), False, count))
    return MatchView(
        id=record.id,
        trigger=record.trigger,
        created_at=record.created_at,
        filled_minor=record.filled_minor,
        funded_after_minor=record.funded_after_minor,
        weighted_rate_bps=data.get("weighted_rate_bps"),
        rule=data.get("rule", ""),
        fills=fills,
        skipped=skipped,
    )


_REASON_TEXT = {
    str(offers.SkipReason.OFFER_EXHAUSTED): "orders with no money left",
    str(offers.SkipReason.OWN_LISTING): "the borrower's own orders",
    str(offers.SkipReason.GRADE_NOT_ACCEPTED): "orders that do not accept this grade",
    str(offers.SkipReason.TERM_NOT_ACCEPTED): "orders that do not accept this term",
    str(offers.SkipReason.RATE_ABOVE_MAX): "orders asking more than the listing's maximum rate",
    str(offers.SkipReason.BORROWER_CAP_REACHED): "orders at their cap for this borrower",
}


@dataclass(frozen=True)
class ListingDetail:
    listing: ListingView
    matches: list[MatchView]
    my_commitments: list[CommitmentView]
    acceptance: SchedulePreview | None
    loan_id: int | None
    min_acceptable_minor: int


def listing_detail(session: Session, viewer: User | None, request_id: int) -> ListingDetail:
    """A listing: public while open for funding; afterwards only to its borrower, the
    lenders who committed to it, and admins."""
    row = session.execute(
        select(LoanRequest, User.display_name)
        .join(User, User.id == LoanRequest.borrower_id)
        .where(LoanRequest.id == request_id)
    ).first()
    if row is None:
        raise NotFound("No such listing.")
    request, name = row
    viewer_id = viewer.id if viewer else None
    mine = [
        c
        for c in session.scalars(
            select(Commitment)
            .where(Commitment.request_id == request.id, Commitment.lender_id == viewer_id)
            .order_by(Commitment.id)
        )
    ]
    owner = request.borrower_id == viewer_id
    if request.status != RequestStatus.LISTED and not (owner or mine or oversees(viewer)):
        raise NotFound("No such listing.")
    records = session.scalars(
        select(MatchRecord).where(MatchRecord.request_id == request.id).order_by(MatchRecord.id)
    ).all()
    loan_id = session.scalar(select(Loan.id).where(Loan.request_id == request.id))
    acceptance = None
    if owner and request.status == RequestStatus.AWAITING_ACCEPTANCE:
        acceptance = acceptance_preview(session, request)
    badge = badges(session, [request.borrower_id]).get(request.borrower_id)
    return ListingDetail(
        listing=replace(listing_view(request, name, viewer_id), borrower_badge=badge),
        matches=[_match_view(r, viewer) for r in records],
        my_commitments=[commitment_view(c) for c in mine],
        acceptance=acceptance,
        loan_id=loan_id if (owner or oversees(viewer)) else None,
        min_acceptable_minor=issuing.min_acceptable(request),
    )


def my_requests(session: Session, borrower_id: int) -> list[ListingView]:
    rows = session.execute(
        select(LoanRequest, User.display_name)
        .join(User, User.id == LoanRequest.borrower_id)
        .where(LoanRequest.borrower_id == borrower_id)
        .order_by(LoanRequest.id.desc())
    ).all()
    return [listing_view(r, name, borrower_id) for r, name in rows]
