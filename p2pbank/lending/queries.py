"""Read models for the lending pages and API: the marketplace, listings with their match
explanations, requests with their schedules, orders, loans, and the lender's and
borrower's dashboards with returns. Authorization is checked here: a person sees their
own requests, orders and loans (admins see all); listings open for funding are public
to members, and match explanations never show another lender's orders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank import reputation as scores
from p2pbank.errors import NotFound, ValidationFailed
from p2pbank.identity.models import Role, User
from p2pbank.ledger import queries as ledger_queries
from p2pbank.ledger.services import find_account
from p2pbank.lending import accounts, funding, grading, matching, returns, rules, servicing
from p2pbank.lending import schedule as sched
from p2pbank.lending.models import (
    Commitment,
    CommitmentStatus,
    Instalment,
    InstalmentStatus,
    LenderOrder,
    Loan,
    LoanPart,
    LoanRequest,
    LoanStatus,
    MatchRecord,
    OrderStatus,
    Repayment,
    RepaymentEvent,
    RepaymentShare,
    RequestStatus,
    WriteOff,
)
from p2pbank.lending.rules import POLICY
from p2pbank.paging import pages_for, paginate
from p2pbank.trust import services as trust_services
from p2pbank.trust.badges import Badge, badges

MAX_PER_PAGE = 100


def _is_admin(user: User | None) -> bool:
    return user is not None and user.has_role(Role.ADMIN)


# --- grade and limit -----------------------------------------------------------------------


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


# --- schedules -----------------------------------------------------------------------------


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
class SchedulePreview:
    principal_minor: int
    fee_minor: int
    paid_out_minor: int
    term_months: int
    rate_bps: int
    method: str
    grade: str
    grade_reasons: tuple[str, ...]
    apr_bps: int
    total_interest_minor: int
    total_cost_minor: int
    total_paid_minor: int
    instalment_minor: int
    rows: list[ScheduleRow]


def _preview_from(
    schedule: sched.Schedule, *, rate_bps: int, grade: str, reasons
) -> SchedulePreview:
    rows = [
        ScheduleRow(
            number=i.number,
            due_on=i.due_on,
            payment_minor=i.payment_minor,
            interest_minor=i.interest_minor,
            principal_minor=i.principal_minor,
            balance_minor=i.balance_minor,
            owed_minor=i.payment_minor,
        )
        for i in schedule.instalments
    ]
    return SchedulePreview(
        principal_minor=schedule.principal_minor,
        fee_minor=schedule.fee_minor,
        paid_out_minor=schedule.principal_minor - schedule.fee_minor,
        term_months=len(schedule.instalments),
        rate_bps=rate_bps,
        method=str(schedule.method),
        grade=grade,
        grade_reasons=tuple(reasons),
        apr_bps=round(schedule.apr() * 10_000),
        total_interest_minor=schedule.total_interest_minor,
        total_cost_minor=schedule.total_cost_minor,
        total_paid_minor=schedule.total_paid_minor,
        instalment_minor=schedule.instalments[0].payment_minor,
        rows=rows,
    )


def preview_schedule(
    session: Session,
    borrower_id: int,
    *,
    amount_minor: int,
    term_months: int,
    max_rate_bps: int,
    method: str = "annuity",
) -> SchedulePreview:
    """The schedule if the loan were funded entirely at the highest rate asked (the worst
    case), issued today, with this borrower's grade and its origination fee: shown before
    the borrower lists the request."""
    errors = rules.check_request_terms(
        amount_minor=amount_minor,
        term_months=term_months,
        max_rate_bps=max_rate_bps,
        purpose_category=POLICY.purposes[0],
        purpose_text="preview only, not listed",
        method=method,
    )
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], field_errors=errors)
    now = clock.now()
    grade = grade_borrower(session, borrower_id, now)
    fee = rules.origination_fee(amount_minor, grade.grade, POLICY)
    schedule = sched.build_schedule(
        [sched.LoanPart(amount_minor, max_rate_bps)],
        term_months,
        now.date(),
        sched.Method(method),
        fee_minor=fee,
    )
    return _preview_from(schedule, rate_bps=max_rate_bps, grade=grade.grade, reasons=grade.reasons)


def acceptance_preview(session: Session, request: LoanRequest) -> SchedulePreview | None:
    """The real schedule of a partly funded request, from its commitments, if issued today."""
    commitments = funding.held_commitments(session, request)
    if not commitments:
        return None
    schedule = funding.quote_schedule(request, commitments, clock.now().date())
    total = sum(c.amount_minor for c in commitments)
    rate = (2 * sum(c.amount_minor * c.rate_bps for c in commitments) + total) // (2 * total)
    return _preview_from(
        schedule, rate_bps=rate, grade=request.grade, reasons=request.grade_reasons
    )


# --- the marketplace -----------------------------------------------------------------------


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


def _listing_view(request: LoanRequest, borrower_name: str, viewer_id: int | None) -> ListingView:
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
class MarketPage:
    listings: list[ListingView]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return pages_for(self.total, self.per_page)


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
        replace(_listing_view(r, name, viewer_id), borrower_badge=found.get(r.borrower_id))
        for r, name in rows
    ]
    return MarketPage(views, page, per_page, total)


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
    admin = _is_admin(viewer)
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
    str(matching.SkipReason.OFFER_EXHAUSTED): "orders with no money left",
    str(matching.SkipReason.OWN_LISTING): "the borrower's own orders",
    str(matching.SkipReason.GRADE_NOT_ACCEPTED): "orders that do not accept this grade",
    str(matching.SkipReason.TERM_NOT_ACCEPTED): "orders that do not accept this term",
    str(matching.SkipReason.RATE_ABOVE_MAX): "orders asking more than the listing's maximum rate",
    str(matching.SkipReason.BORROWER_CAP_REACHED): "orders at their cap for this borrower",
}


@dataclass(frozen=True)
class CommitmentView:
    id: int
    request_id: int
    order_id: int | None
    amount_minor: int
    rate_bps: int
    status: str
    created_at: datetime


def _commitment_view(c: Commitment) -> CommitmentView:
    return CommitmentView(
        c.id, c.request_id, c.order_id, c.amount_minor, c.rate_bps, c.status, c.created_at
    )


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
    if request.status != RequestStatus.LISTED and not (owner or mine or _is_admin(viewer)):
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
        listing=replace(_listing_view(request, name, viewer_id), borrower_badge=badge),
        matches=[_match_view(r, viewer) for r in records],
        my_commitments=[_commitment_view(c) for c in mine],
        acceptance=acceptance,
        loan_id=loan_id if (owner or _is_admin(viewer)) else None,
        min_acceptable_minor=funding.min_acceptable(request),
    )


def my_requests(session: Session, borrower_id: int) -> list[ListingView]:
    rows = session.execute(
        select(LoanRequest, User.display_name)
        .join(User, User.id == LoanRequest.borrower_id)
        .where(LoanRequest.borrower_id == borrower_id)
        .order_by(LoanRequest.id.desc())
    ).all()
    return [_listing_view(r, name, borrower_id) for r, name in rows]


# --- orders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderView:
    id: int
    status: str
    amount_minor: int
    remaining_minor: int
    committed_minor: int
    lent_minor: int
    slice_minor: int
    max_per_borrower_minor: int
    min_rate_bps: dict[str, int]
    min_term_months: int
    max_term_months: int
    reinvest: bool
    placed_at: datetime
    cancelled_at: datetime | None
    currency: str = "EUR"


@dataclass(frozen=True)
class OrderDetail:
    order: OrderView
    commitments: list[CommitmentView]
    not_matched: list[tuple[int, str]]  # (listing id, why this order does not fund it now)


def _order_views(session: Session, orders: Sequence[LenderOrder]) -> list[OrderView]:
    ids = [o.id for o in orders]
    committed: dict[int, int] = defaultdict(int)
    lent: dict[int, int] = defaultdict(int)
    if ids:
        for c in session.scalars(
            select(Commitment).where(
                Commitment.order_id.in_(ids), Commitment.status == CommitmentStatus.HELD
            )
        ):
            committed[c.order_id] += c.amount_minor  # type: ignore[index]
        for part in session.scalars(select(LoanPart).where(LoanPart.order_id.in_(ids))):
            lent[part.order_id] += part.principal_minor  # type: ignore[index]
    return [
        OrderView(
            id=o.id,
            status=o.status,
            amount_minor=o.amount_minor,
            remaining_minor=o.remaining_minor,
            committed_minor=committed[o.id],
            lent_minor=lent[o.id],
            slice_minor=o.slice_minor,
            max_per_borrower_minor=o.max_per_borrower_minor,
            min_rate_bps=o.min_rate_bps,
            min_term_months=o.min_term_months,
            max_term_months=o.max_term_months,
            reinvest=o.reinvest,
            placed_at=o.placed_at,
            cancelled_at=o.cancelled_at,
            currency=o.currency,
        )
        for o in orders
    ]


def my_orders(session: Session, lender_id: int) -> list[OrderView]:
    orders = session.scalars(
        select(LenderOrder)
        .where(LenderOrder.lender_id == lender_id)
        .order_by(LenderOrder.id.desc())
    ).all()
    return _order_views(session, orders)


def order_detail(session: Session, viewer: User, order_id: int) -> OrderDetail:
    order = session.get(LenderOrder, order_id)
    if order is None or (order.lender_id != viewer.id and not _is_admin(viewer)):
        raise NotFound("No such order.")
    commitments = session.scalars(
        select(Commitment).where(Commitment.order_id == order.id).order_by(Commitment.id)
    ).all()
    not_matched: list[tuple[int, str]] = []
    if order.status == OrderStatus.ACTIVE:
        now = clock.now()
        open_listings = session.scalars(
            select(LoanRequest)
            .where(LoanRequest.status == RequestStatus.LISTED, LoanRequest.expires_at > now)
            .order_by(LoanRequest.listed_at, LoanRequest.id)
            .limit(50)
        ).all()
        exposure = funding.exposure(
            session, [order.lender_id], [r.borrower_id for r in open_listings]
        )
        offer = funding.as_offer(order)
        for request in open_listings:
            if request.open_minor == 0:
                continue
            result = matching.match_listing(funding.as_listing(request), [offer], exposure)
            if result.skipped:
                not_matched.append((request.id, result.skipped[0].text))
    return OrderDetail(
        order=_order_views(session, [order])[0],
        commitments=[_commitment_view(c) for c in commitments],
        not_matched=not_matched,
    )


# --- loans ---------------------------------------------------------------------------------


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
    open_rows = servicing.unpaid(rows)
    due = servicing.due(rows, today)
    days = servicing.loan_days_past_due(rows, today) if loan.is_open else 0
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


def loan_detail(session: Session, viewer: User, loan_id: int) -> LoanView:
    """The loan with its full schedule: for its borrower and admins."""
    loan = session.get(Loan, loan_id)
    if loan is None or (loan.borrower_id != viewer.id and not _is_admin(viewer)):
        raise NotFound("No such loan.")
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
        raise ValidationFailed(message, field_errors={"principal_minor": [message]})
    rows = list(
        session.scalars(
            select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.number)
        )
    )
    parts = list(
        session.scalars(select(LoanPart).where(LoanPart.loan_id == loan.id).order_by(LoanPart.id))
    )
    quote = servicing.quote_early(loan, parts, rows, principal_minor, clock.now().date())
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


# --- lender dashboard ----------------------------------------------------------------------


@dataclass(frozen=True)
class PartView:
    id: int
    loan_id: int
    grade: str
    term_months: int
    rate_bps: int
    principal_minor: int
    outstanding_minor: int
    received_principal_minor: int
    received_interest_minor: int
    received_late_fees_minor: int
    received_recoveries_minor: int
    servicing_fees_minor: int
    written_off_minor: int
    loan_status: str
    days_past_due: int
    arrears_bucket: str
    next_due_on: date | None
    next_amount_minor: int
    issued_at: datetime


@dataclass(frozen=True)
class ExpectedPayment:
    due_on: date
    amount_minor: int


@dataclass(frozen=True)
class Returns:
    net_annualized_return: float | None
    xirr: float | None
    explanation: list[str]


@dataclass(frozen=True)
class LenderDashboard:
    available_minor: int
    held_minor: int
    lent_out_minor: int
    committed_minor: int
    in_orders_minor: int
    income_minor: int  # interest + late fees + recoveries - servicing fees
    written_off_minor: int
    orders: list[OrderView]
    commitments: list[CommitmentView]
    parts: list[PartView]
    expected: list[ExpectedPayment]
    returns: Returns
    currency: str = "EUR"


RETURNS_EXPLANATION = [
    "Net annualized return (the LendingClub way): each month, the interest and late fees "
    "your loan parts earned, minus servicing fees and principal written off, plus "
    "recoveries, divided by the principal outstanding at the start of that month; the "
    "weighted monthly average is compounded over twelve months. It ignores cash waiting "
    "in your wallet and when in the month money moved.",
    "XIRR: the yearly rate that makes all your actual cash flows -- money lent out, every "
    "payment received after fees, and the principal still outstanding valued today -- add "
    "up to zero. It counts exactly when money moved.",
    "The two differ when loans are young, repaid early, late or written off; both are "
    "history, not a promise.",
]


def _wallet(session: Session, user_id: int) -> tuple[int, int, int]:
    code = accounts.wallet(user_id)
    found = ledger_queries.balances(session, code) if _exists(session, code) else None
    return (found.posted, found.held, found.available) if found else (0, 0, 0)


def _exists(session: Session, code: str) -> bool:
    return find_account(session, code) is not None


def _month_starts(issued_on: date, until: date) -> list[date]:
    starts = []
    k = 0
    while True:
        start = sched.add_months(issued_on, k)
        if start > until:
            return starts
        starts.append(start)
        k += 1


def _returns(
    parts: Sequence[LoanPart],
    loans: dict[int, Loan],
    shares: Sequence[RepaymentShare],
    write_offs: Sequence[WriteOff],
    today: date,
) -> Returns:
    by_part: dict[int, list[RepaymentShare]] = defaultdict(list)
    for s in shares:
        by_part[s.part_id].append(s)
    written: dict[int, WriteOff] = {w.part_id: w for w in write_offs}
    months: list[returns.NoteMonth] = []
    flows: list[tuple[date, int]] = []
    for part in parts:
        loan = loans[part.loan_id]
        issued_on = loan.issued_on
        flows.append((issued_on, -part.principal_minor))
        part_shares = sorted(by_part[part.id], key=lambda s: s.created_at)
        for s in part_shares:
            flows.append((s.created_at.date(), s.net_minor))
        if part.outstanding_minor:
            flows.append((today, part.outstanding_minor))
        starts = _month_starts(issued_on, today)
        for n, start in enumerate(starts):
            end = sched.add_months(issued_on, n + 1)
            repaid_before = sum(
                s.principal_minor for s in part_shares if s.created_at.date() < start
            )
            w = written.get(part.id)
            off_before = w.amount_minor if w and w.created_at.date() < start else 0
            outstanding = part.principal_minor - repaid_before - off_before
            inside = [s for s in part_shares if start <= s.created_at.date() < end]
            charged = w.amount_minor if w and start <= w.created_at.date() < end else 0
            if outstanding <= 0 and not inside and not charged:
                continue
            months.append(
                returns.NoteMonth(
                    outstanding_principal_minor=max(outstanding, 0),
                    interest_minor=sum(s.interest_minor for s in inside),
                    late_fees_minor=sum(s.late_fee_minor for s in inside),
                    service_fees_minor=sum(s.servicing_fee_minor for s in inside),
                    charged_off_minor=charged,
                    recoveries_minor=sum(s.recovery_minor for s in inside),
                )
            )
    nar = returns.net_annualized_return(months)
    try:
        irr = returns.xirr(flows) if flows else None
    except ValueError:
        irr = None
    return Returns(nar, irr, RETURNS_EXPLANATION)


def lender_dashboard(session: Session, lender_id: int) -> LenderDashboard:
    today = clock.now().date()
    _posted, held, available = _wallet(session, lender_id)
    lent_code = accounts.lent_code(lender_id)
    lent_out = (
        ledger_queries.balances(session, lent_code).posted if _exists(session, lent_code) else 0
    )
    orders = my_orders(session, lender_id)
    commitments = session.scalars(
        select(Commitment)
        .where(Commitment.lender_id == lender_id, Commitment.status == CommitmentStatus.HELD)
        .order_by(Commitment.id.desc())
    ).all()
    parts = session.scalars(
        select(LoanPart).where(LoanPart.lender_id == lender_id).order_by(LoanPart.id.desc())
    ).all()
    loan_ids = {p.loan_id for p in parts}
    loans = (
        {loan.id: loan for loan in session.scalars(select(Loan).where(Loan.id.in_(loan_ids)))}
        if loan_ids
        else {}
    )
    shares = session.scalars(
        select(RepaymentShare).where(RepaymentShare.lender_id == lender_id)
    ).all()
    write_offs = session.scalars(select(WriteOff).where(WriteOff.lender_id == lender_id)).all()
    rows_by_loan: dict[int, list[Instalment]] = defaultdict(list)
    if loan_ids:
        for row in session.scalars(
            select(Instalment).where(Instalment.loan_id.in_(loan_ids)).order_by(Instalment.number)
        ):
            rows_by_loan[row.loan_id].append(row)
    by_part: dict[int, list[RepaymentShare]] = defaultdict(list)
    for s in shares:
        by_part[s.part_id].append(s)
    views = []
    expected: dict[date, int] = defaultdict(int)
    for part in parts:
        loan = loans[part.loan_id]
        rows = rows_by_loan[loan.id]
        days = servicing.loan_days_past_due(rows, today) if loan.is_open else 0
        next_due, next_amount = None, 0
        if loan.is_open:
            for row in servicing.unpaid(rows):
                for ip in row.parts:
                    if ip.part_id == part.id:
                        owed = (
                            ip.principal_minor
                            - ip.principal_paid_minor
                            + ip.interest_minor
                            - ip.interest_paid_minor
                            + ip.late_fee_minor
                            - ip.late_fee_paid_minor
                        )
                        if next_due is None:
                            next_due, next_amount = row.due_on, owed
                        expected[row.due_on] += owed
        got = by_part[part.id]
        views.append(
            PartView(
                id=part.id,
                loan_id=loan.id,
                grade=loan.grade,
                term_months=loan.term_months,
                rate_bps=part.rate_bps,
                principal_minor=part.principal_minor,
                outstanding_minor=part.outstanding_minor,
                received_principal_minor=sum(s.principal_minor for s in got),
                received_interest_minor=sum(s.interest_minor for s in got),
                received_late_fees_minor=sum(s.late_fee_minor for s in got),
                received_recoveries_minor=sum(s.recovery_minor for s in got),
                servicing_fees_minor=sum(s.servicing_fee_minor for s in got),
                written_off_minor=part.written_off_minor,
                loan_status=loan.status,
                days_past_due=days,
                arrears_bucket=rules.arrears_bucket(days),
                next_due_on=next_due,
                next_amount_minor=next_amount,
                issued_at=loan.issued_at,
            )
        )
    income = sum(
        s.interest_minor + s.late_fee_minor + s.recovery_minor - s.servicing_fee_minor
        for s in shares
    )
    return LenderDashboard(
        available_minor=available,
        held_minor=held,
        lent_out_minor=lent_out,
        committed_minor=sum(c.amount_minor for c in commitments),
        in_orders_minor=sum(o.remaining_minor for o in orders if o.status != "cancelled"),
        income_minor=income,
        written_off_minor=sum(p.written_off_minor for p in parts),
        orders=orders,
        commitments=[_commitment_view(c) for c in commitments],
        parts=views,
        expected=[ExpectedPayment(d, a) for d, a in sorted(expected.items())[:6]],
        returns=_returns(parts, loans, shares, write_offs, today),
    )


def lender_parts(session: Session, lender_id: int) -> list[PartView]:
    return lender_dashboard(session, lender_id).parts


# --- borrower dashboard --------------------------------------------------------------------


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
    _posted, _held, available = _wallet(session, borrower_id)
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


def repayments_of(session: Session, viewer: User, loan_id: int) -> list[Repayment]:
    loan = session.get(Loan, loan_id)
    if loan is None or (loan.borrower_id != viewer.id and not _is_admin(viewer)):
        raise NotFound("No such loan.")
    return list(
        session.scalars(
            select(Repayment).where(Repayment.loan_id == loan.id).order_by(Repayment.id)
        )
    )


def income_by_month(session: Session, lender_id: int) -> list[tuple[str, int]]:
    """Interest and late fees a lender received, less servicing fees, per calendar month
    (YYYY-MM, oldest first): the lender dashboard's income chart."""
    rows = session.execute(
        select(
            Repayment.created_at,
            RepaymentShare.interest_minor
            + RepaymentShare.late_fee_minor
            - RepaymentShare.servicing_fee_minor,
        )
        .join(Repayment, Repayment.id == RepaymentShare.repayment_id)
        .where(RepaymentShare.lender_id == lender_id)
    ).all()
    months: dict[str, int] = defaultdict(int)
    for moment, minor in rows:
        months[moment.strftime("%Y-%m")] += int(minor)
    return sorted(months.items())
