"""Read models of the secondary market: the list of parts for sale (filters in the units
people use, paged in SQL), one offer with the lines a buyer pays, the offer form of a
part, and a lender's own offers and sales. Figures come from the same pricing the sale
uses, so the price shown is the price paid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, lazyload

from p2pbank import clock
from p2pbank.errors import NotFound, ValidationFailed
from p2pbank.identity.models import User
from p2pbank.lending.models import Loan, LoanPart, LoanStatus
from p2pbank.paging import Paged, paginate
from p2pbank.permissions import Permission
from p2pbank.resale import pricing, rules
from p2pbank.resale.models import OfferStatus, ResaleOffer, ResaleSale
from p2pbank.trust.badges import Badge, badges

MAX_PER_PAGE = 100
LATENESS = ("any", "current", "late")


@dataclass(frozen=True)
class OfferView:
    id: int
    part_id: int
    loan_id: int
    seller_id: int
    grade: str
    rate_bps: int
    premium_bps: int
    status: str
    loan_status: str
    borrower_id: int
    quote: rules.Quote | None  # None once the part has no principal left
    days_past_due: int
    months_left: int
    next_due_on: date | None
    created_at: datetime
    is_own: bool
    currency: str = "EUR"
    borrower_badge: Badge | None = None

    @property
    def is_late(self) -> bool:
        return self.days_past_due > 0


def _view(offer: ResaleOffer, part: LoanPart, loan: Loan, viewer_id: int | None, today: date):
    state = pricing.part_state(loan, part, loan.instalments, today)
    quote = pricing.quote_for(state, offer.premium_bps) if state.outstanding_minor > 0 else None
    return OfferView(
        id=offer.id,
        part_id=part.id,
        loan_id=loan.id,
        seller_id=offer.seller_id,
        grade=offer.grade,
        rate_bps=offer.rate_bps,
        premium_bps=offer.premium_bps,
        status=offer.status,
        loan_status=loan.status,
        borrower_id=loan.borrower_id,
        quote=quote,
        days_past_due=state.days_past_due,
        months_left=state.months_left,
        next_due_on=state.next_due_on,
        created_at=offer.created_at,
        is_own=offer.seller_id == viewer_id,
        currency=offer.currency,
    )


@dataclass(frozen=True)
class OfferPage(Paged):
    offers: list[OfferView]


def _filtered(
    grade: Sequence[str] | None,
    min_rate_bps: int | None,
    max_premium_bps: int | None,
    max_price_minor: int | None,
    lateness: str,
) -> Select:
    stmt = (
        select(ResaleOffer, LoanPart, Loan)
        .join(LoanPart, LoanPart.id == ResaleOffer.part_id)
        .join(Loan, Loan.id == ResaleOffer.loan_id)
        .where(ResaleOffer.status == OfferStatus.LISTED)
        # A listed part needs its loan's schedule, not every other part of the loan (a
        # large loan has hundreds; loading them all made a page of 50 offers slow).
        .options(lazyload(Loan.parts))
    )
    states = {"any": [LoanStatus.ACTIVE, LoanStatus.LATE], "current": [LoanStatus.ACTIVE]}
    stmt = stmt.where(Loan.status.in_(states.get(lateness, [LoanStatus.LATE])))
    if grade:
        stmt = stmt.where(ResaleOffer.grade.in_(list(grade)))
    if min_rate_bps is not None:
        stmt = stmt.where(ResaleOffer.rate_bps >= min_rate_bps)
    if max_premium_bps is not None:
        stmt = stmt.where(ResaleOffer.premium_bps <= max_premium_bps)
    if max_price_minor is not None:  # the price of the principal, before accrued interest
        stmt = stmt.where(
            LoanPart.outstanding_minor * (10_000 + ResaleOffer.premium_bps)
            <= max_price_minor * 10_000
        )
    return stmt


def market(
    session: Session,
    viewer_id: int | None,
    *,
    grade: Sequence[str] | None = None,
    min_rate_bps: int | None = None,
    max_premium_bps: int | None = None,
    max_price_minor: int | None = None,
    lateness: str = "any",
    page: int = 1,
    per_page: int = 50,
) -> OfferPage:
    """Parts for sale, newest offer first. A late loan's parts say how late they are."""
    if type(page) is not int or page < 1 or type(per_page) is not int:
        raise ValidationFailed("page must be 1 or more", field_errors={"page": ["Must be >= 1."]})
    if lateness not in LATENESS:
        raise ValidationFailed("Unknown choice.", field_errors={"lateness": ["Unknown choice."]})
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    stmt = _filtered(grade, min_rate_bps, max_premium_bps, max_price_minor, lateness)
    rows, total = paginate(session, stmt.order_by(ResaleOffer.id.desc()), page, per_page)
    today = clock.now().date()
    views = [_view(offer, part, loan, viewer_id, today) for offer, part, loan in rows]
    found = badges(session, [v.borrower_id for v in views])
    views = [_with_badge(v, found) for v in views]
    return OfferPage(views, page=page, per_page=per_page, total=total)


def _with_badge(view: OfferView, found: dict[int, Badge]) -> OfferView:
    from dataclasses import replace

    return replace(view, borrower_badge=found.get(view.borrower_id))


def _offer_rows(session: Session, offer_id: int) -> tuple[ResaleOffer, LoanPart, Loan]:
    row = session.execute(
        select(ResaleOffer, LoanPart, Loan)
        .join(LoanPart, LoanPart.id == ResaleOffer.part_id)
        .join(Loan, Loan.id == ResaleOffer.loan_id)
        .where(ResaleOffer.id == offer_id)
    ).first()
    if row is None:
        raise NotFound("No such offer.")
    return row[0], row[1], row[2]


def quote_offer(session: Session, viewer: User | None, offer_id: int) -> OfferView:
    """One offer with the buyer's lines: price, accrued interest, total; the seller's fee.
    Open offers are public to members; a closed one only to its seller (or an admin)."""
    offer, part, loan = _offer_rows(session, offer_id)
    viewer_id = viewer.id if viewer is not None else None
    if offer.status != OfferStatus.LISTED and not (
        offer.seller_id == viewer_id or (viewer is not None and viewer.may(Permission.OVERSEE))
    ):
        raise NotFound("No such offer.")
    view = _view(offer, part, loan, viewer_id, clock.now().date())
    return _with_badge(view, badges(session, [loan.borrower_id]))


@dataclass(frozen=True)
class SaleForm:
    """What the seller sees on the offer form of their part."""

    part_id: int
    loan_id: int
    grade: str
    rate_bps: int
    state: pricing.PartState
    at_par: rules.Quote | None
    open_offer_id: int | None
    problem: str | None  # why it cannot be offered, if it cannot
    min_premium_bps: int = rules.POLICY.min_premium_bps
    max_premium_bps: int = rules.POLICY.max_premium_bps
    fee_bps: int = rules.POLICY.fee_bps


def sale_form(session: Session, seller_id: int, part_id: int) -> SaleForm:
    part = session.get(LoanPart, part_id)
    if part is None or part.lender_id != seller_id:
        raise NotFound("No such loan part.")
    loan = session.get(Loan, part.loan_id)
    assert loan is not None
    state = pricing.part_state(loan, part, loan.instalments, clock.now().date())
    problem = rules.listing_problem(loan.status, part.outstanding_minor)
    open_id = session.scalar(
        select(ResaleOffer.id).where(
            ResaleOffer.part_id == part_id, ResaleOffer.status == OfferStatus.LISTED
        )
    )
    return SaleForm(
        part_id=part.id,
        loan_id=loan.id,
        grade=loan.grade,
        rate_bps=part.rate_bps,
        state=state,
        at_par=pricing.quote_for(state, 0) if problem is None else None,
        open_offer_id=open_id,
        problem=problem,
    )


@dataclass(frozen=True)
class TradeView:
    """One of the lender's offers, with its sale if it was sold."""

    offer_id: int
    part_id: int
    loan_id: int
    side: str  # "sold", "bought" or "offered"
    status: str
    premium_bps: int
    created_at: datetime
    total_minor: int | None
    fee_minor: int | None
    sold_at: datetime | None


@dataclass(frozen=True)
class TradePage(Paged):
    trades: list[TradeView]


def my_trades(session: Session, lender_id: int, *, page: int = 1, per_page: int = 25) -> TradePage:
    """The lender's offers (open, cancelled, sold) and the parts they bought, newest first."""
    if type(page) is not int or page < 1:
        raise ValidationFailed("page must be 1 or more", field_errors={"page": ["Must be >= 1."]})
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    stmt = (
        select(ResaleOffer, ResaleSale)
        .outerjoin(ResaleSale, ResaleSale.offer_id == ResaleOffer.id)
        .where(or_(ResaleOffer.seller_id == lender_id, ResaleSale.buyer_id == lender_id))
        .order_by(ResaleOffer.id.desc())
    )
    rows, total = paginate(session, stmt, page, per_page)
    views = []
    for offer, sale in rows:
        side = "bought" if sale is not None and sale.buyer_id == lender_id else "offered"
        if sale is not None and offer.seller_id == lender_id:
            side = "sold"
        views.append(
            TradeView(
                offer_id=offer.id,
                part_id=offer.part_id,
                loan_id=offer.loan_id,
                side=side,
                status=offer.status,
                premium_bps=offer.premium_bps,
                created_at=offer.created_at,
                total_minor=sale.total_minor if sale else None,
                fee_minor=sale.fee_minor if sale else None,
                sold_at=sale.sold_at if sale else None,
            )
        )
    return TradePage(views, page=page, per_page=per_page, total=total)
