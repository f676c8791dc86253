"""Funding: matching listings with orders, holding the money of every fill, issuing the
loan, releasing the money of listings that end unfunded. Flush-only; the command in
services.py that calls these commits once.

Where the money is while a listing is open:

* an order's uncommitted money (`remaining_minor`) is one ledger hold on the lender's
  wallet, `order.hold_id`; it is re-held for the new remainder whenever it changes;
* every commitment (a fill of an order, or a lender's manual pick) is its own hold;
* issuing releases the commitments' holds and posts the one funding entry in the same
  transaction, so the money never is both held and spent.

Locks, always in this order: the borrower's user row (new requests only), loan requests
(ascending id), loans, lender orders (ascending id), then the ledger accounts (ascending
id, all at once before the first ledger call)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.ledger import holds
from p2pbank.lending import accounts, matching, notices, offers
from p2pbank.lending.models import (
    Commitment,
    CommitmentStatus,
    LenderOrder,
    Loan,
    LoanPart,
    LoanRequest,
    LoanStatus,
    MatchRecord,
    OrderStatus,
    RequestStatus,
)
from p2pbank.money import Money
from p2pbank.uow import for_update

# --- locking -------------------------------------------------------------------------------


def lock_requests(session: Session, ids: Iterable[int]) -> list[LoanRequest]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(
        session.scalars(
            for_update(
                select(LoanRequest).where(LoanRequest.id.in_(wanted)).order_by(LoanRequest.id)
            )
        )
    )


def lock_open_listings(session: Session, now: datetime) -> list[LoanRequest]:
    """Every listing still collecting money, locked, in id order."""
    ids = session.scalars(
        select(LoanRequest.id).where(
            LoanRequest.status == RequestStatus.LISTED,
            LoanRequest.expires_at > now,
            LoanRequest.funded_minor < LoanRequest.amount_minor,
        )
    ).all()
    return [
        r
        for r in lock_requests(session, ids)
        if r.status == RequestStatus.LISTED and r.expires_at > now and r.open_minor > 0
    ]


def lock_orders(session: Session, ids: Iterable[int]) -> list[LenderOrder]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(
        session.scalars(
            for_update(
                select(LenderOrder).where(LenderOrder.id.in_(wanted)).order_by(LenderOrder.id)
            )
        )
    )


def lock_active_orders(session: Session) -> list[LenderOrder]:
    ids = session.scalars(
        select(LenderOrder.id).where(LenderOrder.status == OrderStatus.ACTIVE)
    ).all()
    return [o for o in lock_orders(session, ids) if o.status == OrderStatus.ACTIVE]


# --- exposure ------------------------------------------------------------------------------


def exposure(
    session: Session, lender_ids: Iterable[int], borrower_ids: Iterable[int]
) -> dict[tuple[int, int], int]:
    """(lender, borrower) -> money the lender has with the borrower now: commitments still
    held plus principal outstanding on open loans. The per-borrower cap counts both."""
    lenders, borrowers = sorted(set(lender_ids)), sorted(set(borrower_ids))
    out: dict[tuple[int, int], int] = defaultdict(int)
    if not lenders or not borrowers:
        return {}
    held = session.execute(
        select(Commitment.lender_id, LoanRequest.borrower_id, func.sum(Commitment.amount_minor))
        .join(LoanRequest, LoanRequest.id == Commitment.request_id)
        .where(
            Commitment.status == CommitmentStatus.HELD,
            Commitment.lender_id.in_(lenders),
            LoanRequest.borrower_id.in_(borrowers),
        )
        .group_by(Commitment.lender_id, LoanRequest.borrower_id)
    )
    for lender, borrower, amount in held:
        out[(lender, borrower)] += int(amount)
    lent = session.execute(
        select(LoanPart.lender_id, Loan.borrower_id, func.sum(LoanPart.outstanding_minor))
        .join(Loan, Loan.id == LoanPart.loan_id)
        .where(
            Loan.status.in_([LoanStatus.ACTIVE, LoanStatus.LATE]),
            LoanPart.lender_id.in_(lenders),
            Loan.borrower_id.in_(borrowers),
        )
        .group_by(LoanPart.lender_id, Loan.borrower_id)
    )
    for lender, borrower, amount in lent:
        out[(lender, borrower)] += int(amount or 0)
    return dict(out)


# --- matching ------------------------------------------------------------------------------


def as_offer(order: LenderOrder) -> offers.Offer:
    return offers.Offer(
        id=order.id,
        lender_id=order.lender_id,
        placed_at=order.placed_at,
        remaining_minor=order.remaining_minor,
        slice_minor=order.slice_minor,
        max_per_borrower_minor=order.max_per_borrower_minor,
        min_rate_bps=order.min_rate_bps,
        min_term_months=order.min_term_months,
        max_term_months=order.max_term_months,
    )


def as_listing(request: LoanRequest) -> offers.Listing:
    return offers.Listing(
        id=request.id,
        borrower_id=request.borrower_id,
        grade=request.grade,
        term_months=request.term_months,
        amount_minor=request.amount_minor,
        max_rate_bps=request.max_rate_bps,
        funded_minor=request.funded_minor,
    )


def explanation_of(result: offers.MatchResult, trigger: str) -> dict:
    """The stored explanation: every fill with its rate, every skipped offer and why."""
    return {
        "trigger": trigger,
        "rule": "pay-as-bid: eligible offers fill in order of rate, then time placed, then id",
        "amount_minor": result.amount_minor,
        "funded_minor": result.funded_minor,
        "filled_minor": result.filled_minor,
        "weighted_rate_bps": result.weighted_apr_bps,
        "fills": [
            {
                "offer_id": f.offer_id,
                "lender_id": f.lender_id,
                "amount_minor": f.amount_minor,
                "rate_bps": f.rate_bps,
            }
            for f in result.fills
        ],
        "skipped": [
            {
                "offer_id": s.offer_id,
                "lender_id": s.lender_id,
                "reason": str(s.reason),
                "text": s.text,
            }
            for s in result.skipped
        ],
    }


def match(
    session: Session,
    requests: Sequence[LoanRequest],
    orders: Sequence[LenderOrder],
    *,
    trigger: str,
    now: datetime,
    record_empty: bool = False,
    trigger_order_id: int | None = None,
) -> list[Loan]:
    """Match the (locked, open) listings in listing order against the (locked, active)
    orders, hold the money of every fill, and issue the loans that are now fully funded.
    Returns the loans issued.

    One piece: every step runs in the caller's transaction and the order of locks matters
    (the accounts are locked in id order between computing the fills and holding them)."""
    listings = sorted(
        (r for r in requests if r.status == RequestStatus.LISTED and r.open_minor > 0),
        key=lambda r: (r.listed_at, r.id),
    )
    live = [o for o in orders if o.status == OrderStatus.ACTIVE and o.remaining_minor > 0]
    if not listings or not live:
        if record_empty:
            for request in listings:
                result = matching.match_listing(as_listing(request), [], explain=True)
                _record(session, request, result, trigger, trigger_order_id)
        return []
    exposure_now = exposure(session, (o.lender_id for o in live), (r.borrower_id for r in listings))
    results = matching.match_book(
        [as_listing(r) for r in listings],
        [as_offer(o) for o in live],
        exposure_now,
        explain=True,
    )
    by_request = {r.id: r for r in listings}
    by_order = {o.id: o for o in live}
    filled = [res for res in results if res.fills]
    if not filled and not record_empty:
        return []

    # Lock every account the fills and the loans they complete will touch, in id order.
    lenders = {f.lender_id for res in filled for f in res.fills}
    completing = [by_request[res.listing_id] for res in filled if res.is_fully_funded]
    prepare_accounts(session, lenders, completing, extra_lenders=_lenders_of(completing))

    touched: dict[int, LenderOrder] = {}
    for res in results:
        request = by_request[res.listing_id]
        if not res.fills and not record_empty:
            continue
        record = _record(session, request, res, trigger, trigger_order_id)
        for fill in res.fills:
            order = by_order[fill.offer_id]
            if order.id not in touched:
                release_order_hold(session, order)
                touched[order.id] = order
            held = holds.hold(
                session,
                account_code=accounts.wallet_code(order.lender_id),
                amount=Money(fill.amount_minor, order.currency),
                idempotency_key=f"lending:match:{record.id}:order:{order.id}",
                ref_type="loan_request",
                ref_id=request.id,
                memo=f"Order {order.id} committed to listing {request.id}",
            )
            session.add(
                Commitment(
                    request_id=request.id,
                    lender_id=order.lender_id,
                    order_id=order.id,
                    match_id=record.id,
                    amount_minor=fill.amount_minor,
                    rate_bps=fill.rate_bps,
                    hold_id=held.id,
                    created_at=now,
                )
            )
            order.remaining_minor -= fill.amount_minor
        request.funded_minor = res.funded_minor
        if res.fills and not res.is_fully_funded:
            notices.partly_funded(session, request)
    for order in touched.values():
        hold_order_remaining(session, order)
        if order.remaining_minor == 0:
            notices.order_filled(session, order)
    session.flush()
    # issuing builds on this module's locks and holds, so it is imported when first needed
    from p2pbank.lending.issuing import issue_loan

    return [issue_loan(session, request, now=now) for request in completing]


def _lenders_of(requests: Iterable[LoanRequest]) -> set[int]:
    return {c.lender_id for r in requests for c in r.commitments}


def _record(
    session: Session,
    request: LoanRequest,
    result: offers.MatchResult,
    trigger: str,
    order_id: int | None,
) -> MatchRecord:
    record = MatchRecord(
        request_id=request.id,
        trigger=trigger,
        order_id=order_id,
        filled_minor=result.filled_minor,
        funded_after_minor=result.funded_minor,
        explanation_json=json.dumps(explanation_of(result, trigger), sort_keys=True),
    )
    session.add(record)
    session.flush()
    return record


def prepare_accounts(
    session: Session,
    lenders: Iterable[int],
    completing: Sequence[LoanRequest],
    *,
    extra_lenders: Iterable[int] = (),
) -> None:
    everyone = set(lenders) | set(extra_lenders)
    codes: list[str] = []
    for lender_id in sorted(everyone):
        accounts.ensure_lender_accounts(session, lender_id)
        codes += [accounts.wallet_code(lender_id), accounts.lent_code(lender_id)]
    if completing:
        accounts.ensure_fees(session)
        codes.append(accounts.FEES)
    for request in completing:
        accounts.ensure_borrower_accounts(session, request.borrower_id)
        codes += [
            accounts.wallet_code(request.borrower_id),
            accounts.owed_code(request.borrower_id),
        ]
    accounts.lock_accounts(session, codes)


# --- order holds ---------------------------------------------------------------------------


def release_order_hold(session: Session, order: LenderOrder) -> None:
    """Give the order's hold back (before re-holding a new remainder)."""
    if order.hold_id is not None:
        holds.release_hold(
            session, order.hold_id, idempotency_key=f"lending:hold:{order.hold_id}:release"
        )
        order.hold_id = None


def hold_order_remaining(session: Session, order: LenderOrder) -> None:
    """Hold the order's remaining money (after release_order_hold) and set its status."""
    if order.remaining_minor > 0:
        order.hold_seq += 1
        held = holds.hold(
            session,
            account_code=accounts.wallet_code(order.lender_id),
            amount=Money(order.remaining_minor, order.currency),
            idempotency_key=f"lending:order:{order.id}:hold:{order.hold_seq}",
            ref_type="lender_order",
            ref_id=order.id,
            memo=f"Order {order.id}: money waiting for listings",
        )
        order.hold_id = held.id
        if order.status != OrderStatus.CANCELLED:
            order.move_to(OrderStatus.ACTIVE)
    elif order.status == OrderStatus.ACTIVE:
        order.move_to(OrderStatus.USED_UP)


def add_to_order(session: Session, order: LenderOrder, amount_minor: int) -> None:
    """Put money (already in the lender's wallet) back into a live order and hold it."""
    release_order_hold(session, order)
    order.remaining_minor += amount_minor
    hold_order_remaining(session, order)
