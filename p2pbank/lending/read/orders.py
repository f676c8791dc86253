"""A lender's standing orders: what each has committed and lent, and why an active order
does not fund an open listing now. Only the order's lender and admins see it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import NotFound
from p2pbank.identity.models import User
from p2pbank.lending import funding, matching
from p2pbank.lending.models import (
    Commitment,
    CommitmentStatus,
    LenderOrder,
    LoanPart,
    LoanRequest,
    OrderStatus,
    RequestStatus,
)
from p2pbank.lending.read.views import CommitmentView, commitment_view, oversees


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
            committed[c.order_id] += c.amount_minor
        for part in session.scalars(select(LoanPart).where(LoanPart.order_id.in_(ids))):
            lent[part.order_id] += part.principal_minor
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
    if order is None or (order.lender_id != viewer.id and not oversees(viewer)):
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
        commitments=[commitment_view(c) for c in commitments],
        not_matched=not_matched,
    )
