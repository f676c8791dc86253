"""Auto-invest orders buying on the secondary market, and closing offers gone stale;
flush-only, called inside the commands of services.py.

An order buys a part only if its owner ticked the option (ResaleOrderOption), the part is
current and priced at par or below, its grade and rate suit the order, its months left fit
the order's longest term, the order has the money, and the per-borrower cap still holds.
Orders are served first come, first served (placed_at, id), like listings are filled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.lending import accounts, funding, servicing
from p2pbank.lending.models import LenderOrder, Loan, LoanPart, LoanStatus, OrderStatus
from p2pbank.resale import pricing, rules, settle
from p2pbank.resale.models import OfferStatus, ResaleOffer, ResaleOrderOption

SWEEP_BATCH = 200


def opted_in_orders(session: Session, order_ids: Iterable[int] | None = None) -> list[int]:
    query = (
        select(LenderOrder.id)
        .join(ResaleOrderOption, ResaleOrderOption.order_id == LenderOrder.id)
        .where(
            ResaleOrderOption.buys_resale.is_(True),
            LenderOrder.status == OrderStatus.ACTIVE,
            LenderOrder.remaining_minor > 0,
        )
    )
    if order_ids is not None:
        query = query.where(LenderOrder.id.in_(list(order_ids)))
    return list(session.scalars(query))


def _prelock(session: Session, people: Iterable[int]) -> None:
    """Every wallet and lent account the sales may touch, at once, in id order."""
    accounts.ensure_fees(session)
    codes = [accounts.FEES]
    for user_id in sorted(set(people)):
        accounts.ensure_lender_accounts(session, user_id)
        codes += [accounts.wallet_code(user_id), accounts.lent_code(user_id)]
    accounts.lock_accounts(session, codes)


def _first_fit(
    offer: ResaleOffer,
    loan: Loan,
    quote: rules.Quote,
    state: pricing.PartState,
    orders: Sequence[LenderOrder],
    exposure: dict[tuple[int, int], int],
) -> LenderOrder | None:
    for order in orders:
        if order.lender_id in (offer.seller_id, loan.borrower_id):
            continue
        if order.status != OrderStatus.ACTIVE or order.currency != offer.currency:
            continue
        if order.remaining_minor < quote.total_minor:
            continue
        held = exposure.get((order.lender_id, loan.borrower_id), 0)
        if held + quote.outstanding_minor > order.max_per_borrower_minor:
            continue
        if rules.auto_buy_fits(
            premium_bps=offer.premium_bps,
            days_past_due=state.days_past_due,
            grade=offer.grade,
            rate_bps=offer.rate_bps,
            months_left=state.months_left,
            min_rate_by_grade=order.min_rate_bps,
            max_term_months=order.max_term_months,
        ):
            return order
    return None


def _try_offer(
    session: Session,
    offer: ResaleOffer,
    loan: Loan,
    orders: Sequence[LenderOrder],
    exposure: dict[tuple[int, int], int],
    now: datetime,
) -> bool:
    part = session.get(LoanPart, offer.part_id)
    assert part is not None
    if offer.status != OfferStatus.LISTED or settle.stale_reason(offer, loan, part):
        return False
    state = pricing.part_state(loan, part, servicing.instalments(session, loan), now.date())
    quote = pricing.quote_for(state, offer.premium_bps)
    order = _first_fit(offer, loan, quote, state, orders, exposure)
    if order is None:
        return False
    settle.sell(
        session,
        offer,
        loan,
        part,
        settle.Buyer(order.lender_id, order),
        quote=quote,
        days_past_due=state.days_past_due,
        key=f"auto:order:{order.id}:offer:{offer.id}",
        now=now,
    )
    pair = (order.lender_id, loan.borrower_id)
    exposure[pair] = exposure.get(pair, 0) + quote.outstanding_minor
    return True


def _ordered(orders: Iterable[LenderOrder]) -> list[LenderOrder]:
    return sorted(orders, key=lambda o: (o.placed_at, o.id))


def offer_to_orders(
    session: Session, offer: ResaleOffer, loan: Loan, part: LoanPart, *, now: datetime
) -> bool:
    """A new offer (its loan locked by the caller) goes to the opted-in orders first."""
    if loan.status != LoanStatus.ACTIVE or offer.premium_bps > rules.POLICY.auto_max_premium_bps:
        return False
    orders = funding.lock_orders(session, opted_in_orders(session))
    if not orders:
        return False
    _prelock(session, [offer.seller_id, *(o.lender_id for o in orders)])
    exposure = funding.exposure(session, (o.lender_id for o in orders), [loan.borrower_id])
    return _try_offer(session, offer, loan, _ordered(orders), exposure, now)


def _lock_candidates(session: Session) -> list[ResaleOffer]:
    return list(
        session.scalars(
            select(ResaleOffer)
            .join(Loan, Loan.id == ResaleOffer.loan_id)
            .where(
                ResaleOffer.status == OfferStatus.LISTED,
                ResaleOffer.premium_bps <= rules.POLICY.auto_max_premium_bps,
                Loan.status == LoanStatus.ACTIVE,
            )
            .order_by(ResaleOffer.id)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True, of=ResaleOffer)
            .execution_options(populate_existing=True)
        )
    )


def sweep(session: Session, order_ids: Iterable[int] | None, *, now: datetime) -> int:
    """Offer the parts on sale (a batch, oldest first) to the opted-in orders."""
    wanted = opted_in_orders(session, order_ids)
    if not wanted:
        return 0
    offers = _lock_candidates(session)
    if not offers:
        return 0
    loans = {}
    for loan_id in sorted({o.loan_id for o in offers}):
        loan = servicing.lock_loan(session, loan_id)
        assert loan is not None
        loans[loan_id] = loan
    orders = _ordered(funding.lock_orders(session, wanted))
    _prelock(session, [*(o.seller_id for o in offers), *(o.lender_id for o in orders)])
    exposure = funding.exposure(
        session, (o.lender_id for o in orders), (loan.borrower_id for loan in loans.values())
    )
    bought = 0
    for offer in offers:
        bought += _try_offer(session, offer, loans[offer.loan_id], orders, exposure, now)
    return bought


def close_stale(session: Session, now: datetime) -> int:
    """Close the open offers whose loan is no longer running or whose part moved."""
    stale = session.scalars(
        select(ResaleOffer)
        .join(Loan, Loan.id == ResaleOffer.loan_id)
        .where(
            ResaleOffer.status == OfferStatus.LISTED,
            Loan.status.not_in([LoanStatus.ACTIVE, LoanStatus.LATE]),
        )
        .order_by(ResaleOffer.id)
        .with_for_update(skip_locked=True, of=ResaleOffer)
    ).all()
    for offer in stale:
        loan = session.get(Loan, offer.loan_id)
        part = session.get(LoanPart, offer.part_id)
        assert loan is not None and part is not None
        reason = settle.stale_reason(offer, loan, part) or "The loan ended."
        settle.close_offer(offer, OfferStatus.CANCELLED, reason, now)
    return len(stale)
