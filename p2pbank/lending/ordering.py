"""Lenders' commands: place, cancel and set reinvestment on standing orders, and commit to
a listing by hand. Each is idempotent and atomic (p2pbank/uow.py).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import (
    Conflict,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from p2pbank.ledger import holds
from p2pbank.lending import funding, issuing, matching, notices, offers
from p2pbank.lending.access import checked_key, load_user, need_funds, refuse_fields, require_lender
from p2pbank.lending.models import (
    Commitment,
    LenderOrder,
    LoanRequest,
    MatchRecord,
    OrderStatus,
    RequestStatus,
)
from p2pbank.lending.rules import (
    POLICY,
    check_order_terms,
    default_borrower_cap,
    euros,
    percent,
)
from p2pbank.money import Money
from p2pbank.uow import command


def place_order(
    session: Session,
    lender_id: int,
    *,
    amount_minor: int,
    min_rate_bps: dict[str, int],
    slice_minor: int = POLICY.min_slice_minor,
    max_per_borrower_minor: int | None = None,
    min_term_months: int = 6,
    max_term_months: int = 60,
    reinvest: bool = False,
    idempotency_key: str | None = None,
) -> LenderOrder:
    """Place an auto-invest order: its money is held at once and it matches the open
    listings right away, then every new listing until it is used up or cancelled."""
    with command(session):
        now = clock.now()
        lender = load_user(session, lender_id)
        require_lender(lender)
        key = checked_key(idempotency_key)
        existing = session.scalar(
            select(LenderOrder).where(
                LenderOrder.lender_id == lender_id, LenderOrder.idempotency_key == key
            )
        )
        if existing is not None:
            return existing
        refuse_fields(
            check_order_terms(
                amount_minor=amount_minor,
                slice_minor=slice_minor,
                max_per_borrower_minor=max_per_borrower_minor,
                min_rate_bps=min_rate_bps,
                min_term_months=min_term_months,
                max_term_months=max_term_months,
            )
        )
        if max_per_borrower_minor is None:
            max_per_borrower_minor = default_borrower_cap(amount_minor, slice_minor, POLICY)
        listings = funding.lock_open_listings(session, now)
        order = LenderOrder(
            lender_id=lender_id,
            amount_minor=amount_minor,
            remaining_minor=amount_minor,
            slice_minor=slice_minor,
            max_per_borrower_minor=max_per_borrower_minor,
            min_term_months=min_term_months,
            max_term_months=max_term_months,
            reinvest=bool(reinvest),
            status=OrderStatus.ACTIVE,
            idempotency_key=key,
            placed_at=now,
            hold_seq=0,
        )
        funding.accounts.ensure_lender_accounts(session, lender_id)
        need_funds(session, lender_id, amount_minor)
        order.set_rates(min_rate_bps)
        session.add(order)
        session.flush()
        # Match first, then hold: matching locks every account it needs in one batch
        # (commitments are held from the order's money), and whatever is left is held
        # for the order afterwards -- the same total, and one lock order everywhere.
        funding.match(
            session, listings, [order], trigger="order_placed", now=now, trigger_order_id=order.id
        )
        if order.hold_id is None and order.remaining_minor > 0:
            funding.hold_order_remaining(session, order)
    return order


def _own_order(session: Session, lender_id: int, order_id: int) -> LenderOrder:
    locked = funding.lock_orders(session, [order_id])
    if not locked or locked[0].lender_id != lender_id:
        raise NotFound("No such order.")
    return locked[0]


def cancel_order(session: Session, lender_id: int, order_id: int) -> LenderOrder:
    """Release the order's uncommitted money. Money already committed to listings stays
    committed until each listing is funded (it is lent) or ends (it comes back)."""
    with command(session):
        order = _own_order(session, lender_id, order_id)
        if order.status == OrderStatus.CANCELLED:
            return order
        funding.accounts.ensure_lender_accounts(session, lender_id)
        funding.accounts.lock_accounts(session, [funding.accounts.wallet_code(lender_id)])
        funding.release_order_hold(session, order)
        order.remaining_minor = 0
        order.move_to(OrderStatus.CANCELLED)
        order.cancelled_at = clock.now()
    return order


def set_reinvest(session: Session, lender_id: int, order_id: int, reinvest: bool) -> LenderOrder:
    """Switch automatic reinvestment of repayments on or off for one order."""
    with command(session):
        order = _own_order(session, lender_id, order_id)
        if order.status == OrderStatus.CANCELLED:
            raise InvalidState("A cancelled order does not reinvest.")
        order.reinvest = bool(reinvest)
    return order


def commit_to_listing(
    session: Session,
    lender_id: int,
    request_id: int,
    *,
    amount_minor: int,
    rate_bps: int,
    idempotency_key: str | None = None,
) -> Commitment:
    """A lender picks a listing by hand and commits money at a rate up to its maximum.
    The money is held; when this completes the listing, the loan is issued at once."""
    with command(session):
        now = clock.now()
        lender = load_user(session, lender_id)
        require_lender(lender)
        key = checked_key(idempotency_key)
        locked = funding.lock_requests(session, [request_id])
        if not locked:
            raise NotFound("No such listing.")
        request = locked[0]
        existing = session.scalar(
            select(Commitment).where(
                Commitment.lender_id == lender_id, Commitment.idempotency_key == key
            )
        )
        if existing is not None:
            return existing
        _check_commit(request, lender_id, amount_minor, rate_bps, now=now)
        result = _match_by_hand(request, lender_id, amount_minor, rate_bps, now=now)
        completes = result.is_fully_funded
        funding.accounts.ensure_lender_accounts(session, lender_id)
        need_funds(session, lender_id, amount_minor)
        earlier = {c.lender_id for c in issuing.held_commitments(session, request)}
        funding.prepare_accounts(
            session,
            {lender_id} | (earlier if completes else set()),
            [request] if completes else [],
        )
        commitment = _hold_commitment(
            session, request, lender_id, result, amount_minor, rate_bps, key=key, now=now
        )
        if completes:
            issuing.issue_loan(session, request, now=now)
        else:
            notices.partly_funded(session, request)
    return commitment


def _check_commit(
    request: LoanRequest, lender_id: int, amount_minor: int, rate_bps: int, *, now: datetime
) -> None:
    """Refuse a commitment to oneself, to a closed listing, at a rate or of an amount the
    listing does not take, or of more than is still open."""
    if request.borrower_id == lender_id:
        raise ValidationFailed(
            "You cannot lend to yourself.",
            field_errors={"_": ["You cannot lend to yourself."]},
        )
    if request.status != RequestStatus.LISTED or now >= request.expires_at:
        raise InvalidState("This listing is no longer open for funding.")
    errors: dict[str, list[str]] = {}
    if type(rate_bps) is not int or not 0 <= rate_bps <= POLICY.rate_cap_bps:
        errors["rate_bps"] = [
            f"The rate must be from 0 to the platform cap of {percent(POLICY.rate_cap_bps)}."
        ]
    elif rate_bps > request.max_rate_bps:
        errors["rate_bps"] = [
            f"The rate is above this listing's maximum of {percent(request.max_rate_bps)}."
        ]
    if type(amount_minor) is not int or amount_minor <= 0:
        errors["amount_minor"] = ["Give an amount in cents."]
    elif amount_minor < POLICY.min_slice_minor and amount_minor != request.open_minor:
        errors["amount_minor"] = [
            f"Commit at least {euros(POLICY.min_slice_minor)} "
            "(or exactly what is left of the listing)."
        ]
    refuse_fields(errors)
    if amount_minor > request.open_minor:
        if request.open_minor == 0:
            raise Conflict("This listing is fully funded.")
        raise Conflict(f"Only {euros(request.open_minor)} of this listing is still open.")


def _match_by_hand(
    request: LoanRequest, lender_id: int, amount_minor: int, rate_bps: int, *, now: datetime
) -> offers.MatchResult:
    """The commitment as a one-off offer through the same matching rules as the orders."""
    offer = offers.Offer(
        id=0,
        lender_id=lender_id,
        placed_at=now,
        remaining_minor=amount_minor,
        slice_minor=amount_minor,
        max_per_borrower_minor=amount_minor,
        min_rate_bps={request.grade: rate_bps},
        min_term_months=request.term_months,
        max_term_months=request.term_months,
    )
    result = matching.match_listing(funding.as_listing(request), [offer], explain=True)
    if not result.fills:  # pragma: no cover - the checks above refuse every such case
        raise ValidationFailed(result.skipped[0].text)
    return result


def _hold_commitment(
    session: Session,
    request: LoanRequest,
    lender_id: int,
    result: offers.MatchResult,
    amount_minor: int,
    rate_bps: int,
    *,
    key: str,
    now: datetime,
) -> Commitment:
    """Record the match, hold the money in the lender's wallet and add the commitment to
    the listing's funding."""
    record = MatchRecord(
        request_id=request.id,
        trigger="manual_commit",
        filled_minor=result.filled_minor,
        funded_after_minor=result.funded_minor,
        explanation_json=json.dumps(
            funding.explanation_of(result, "manual_commit"), sort_keys=True
        ),
    )
    session.add(record)
    session.flush()
    held = holds.hold(
        session,
        account_code=funding.accounts.wallet_code(lender_id),
        amount=Money(amount_minor, request.currency),
        idempotency_key=f"lending:commit:{lender_id}:{key}",
        ref_type="loan_request",
        ref_id=request.id,
        memo=f"Committed by hand to listing {request.id}",
    )
    commitment = Commitment(
        request_id=request.id,
        lender_id=lender_id,
        order_id=None,
        match_id=record.id,
        amount_minor=amount_minor,
        rate_bps=rate_bps,
        hold_id=held.id,
        idempotency_key=key,
        created_at=now,
    )
    session.add(commitment)
    request.funded_minor += amount_minor
    session.flush()
    return commitment
