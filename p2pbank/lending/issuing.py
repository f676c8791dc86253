"""The end of funding: issue the loan from the held commitments (one balanced entry, the
schedule written per lender part), or release the request and its holds. Flush-only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.ledger import holds
from p2pbank.lending import accounts, notices
from p2pbank.lending import schedule as sched
from p2pbank.lending.funding import add_to_order, lock_orders, prepare_accounts
from p2pbank.lending.models import (
    Commitment,
    CommitmentStatus,
    Instalment,
    InstalmentPart,
    Loan,
    LoanPart,
    LoanRequest,
    LoanStatus,
    OrderStatus,
    RequestStatus,
)
from p2pbank.lending.rules import POLICY, min_funded_minor
from p2pbank.money import allocate, percent_of


def quote_schedule(request: LoanRequest, commitments: Sequence[Commitment], issued_on):
    """The schedule the borrower would get from these commitments, issued on that day."""
    parts = [sched.ScheduledPart(c.amount_minor, c.rate_bps) for c in commitments]
    principal = sum(c.amount_minor for c in commitments)
    fee = _fee(principal, request.origination_fee_bps)
    return sched.build_schedule(
        parts, request.term_months, issued_on, sched.Method(request.method), fee_minor=fee
    )


def _fee(principal_minor: int, fee_bps: int) -> int:
    return percent_of(principal_minor, fee_bps)


def held_commitments(session: Session, request: LoanRequest) -> list[Commitment]:
    return list(
        session.scalars(
            select(Commitment)
            .where(
                Commitment.request_id == request.id,
                Commitment.status == CommitmentStatus.HELD,
            )
            .order_by(Commitment.id)
        )
    )


def issue_loan(session: Session, request: LoanRequest, *, now: datetime) -> Loan:
    """Turn the listing's held commitments into a loan: release their holds and post the
    one funding entry (lenders -> borrower, fee -> platform:fees) in the same step."""
    commitments = held_commitments(session, request)
    principal = sum(c.amount_minor for c in commitments)
    assert principal == request.funded_minor > 0
    schedule = quote_schedule(request, commitments, now.date())
    prepare_accounts(session, {c.lender_id for c in commitments}, [request])
    _release_commitments(session, commitments, CommitmentStatus.ISSUED, now=now)
    legs = _funding_legs(request, commitments, schedule.fee_minor)
    request.move_to(RequestStatus.FUNDED)
    request.closed_at = now
    loan = _new_loan(request, commitments, schedule, now=now)
    session.add(loan)
    session.flush()
    entries = accounts.post_with_lenders(
        session,
        lenders=legs,
        kind="loan_funding",
        idempotency_key=f"lending:loan:{loan.id}:funding",
        ref_type="loan",
        ref_id=loan.id,
        memo=f"Loan {loan.id} paid out to the borrower; fee {loan.fee_minor} to the platform",
    )
    loan.funding_entry_id = entries[0].id
    parts = _add_parts(session, loan, commitments)
    write_instalments(session, loan, parts, schedule.instalments)
    session.flush()
    notices.loan_funded(session, request, loan)
    return loan


def _release_commitments(
    session: Session,
    commitments: Sequence[Commitment],
    target: CommitmentStatus,
    *,
    now: datetime,
) -> None:
    """Release each commitment's hold (its money is lent or goes back) and resolve it."""
    for commitment in commitments:
        holds.release_hold(
            session,
            commitment.hold_id,
            idempotency_key=f"lending:hold:{commitment.hold_id}:release",
        )
        commitment.move_to(target)
        commitment.resolved_at = now


def _funding_legs(
    request: LoanRequest, commitments: Sequence[Commitment], fee_minor: int
) -> list[accounts.LenderLegs]:
    """Each lender's legs of the funding entry: what they lend leaves their wallet for the
    borrower's, minus their share of the fee (by what they lend) for the platform."""
    by_lender: dict[int, int] = defaultdict(int)
    for c in commitments:
        by_lender[c.lender_id] += c.amount_minor
    order = sorted(by_lender)
    fees = (
        allocate(fee_minor, [by_lender[lender] for lender in order])
        if fee_minor
        else [0] * len(order)
    )
    borrower_wallet = accounts.wallet_code(request.borrower_id)
    owed = accounts.owed_code(request.borrower_id)
    return [
        accounts.LenderLegs(
            lender_id=lender,
            wallet_minor=-by_lender[lender],
            lent_minor=by_lender[lender],
            common={
                owed: -by_lender[lender],
                borrower_wallet: by_lender[lender] - share,
                accounts.FEES: share,
            },
        )
        for lender, share in zip(order, fees, strict=True)
    ]


def _new_loan(
    request: LoanRequest,
    commitments: Sequence[Commitment],
    schedule: sched.Schedule,
    *,
    now: datetime,
) -> Loan:
    principal = sum(c.amount_minor for c in commitments)
    return Loan(
        request_id=request.id,
        borrower_id=request.borrower_id,
        currency=request.currency,
        principal_minor=principal,
        fee_minor=schedule.fee_minor,
        outstanding_minor=principal,
        term_months=request.term_months,
        method=request.method,
        grade=request.grade,
        rate_bps=_weighted_rate(commitments),
        apr_bps=round(schedule.apr() * 10_000),
        instalment_minor=schedule.instalments[0].payment_minor,
        status=LoanStatus.ACTIVE,
        issued_at=now,
        issued_on=now.date(),
    )


def _add_parts(session: Session, loan: Loan, commitments: Sequence[Commitment]) -> list[LoanPart]:
    """One part per commitment: what its lender lent at its rate."""
    parts = [
        LoanPart(
            loan_id=loan.id,
            lender_id=c.lender_id,
            commitment_id=c.id,
            order_id=c.order_id,
            principal_minor=c.amount_minor,
            rate_bps=c.rate_bps,
            outstanding_minor=c.amount_minor,
        )
        for c in commitments
    ]
    session.add_all(parts)
    session.flush()
    return parts


def _weighted_rate(commitments: Sequence[Commitment]) -> int:
    total = sum(c.amount_minor for c in commitments)
    weighted = sum(c.amount_minor * c.rate_bps for c in commitments)
    return (2 * weighted + total) // (2 * total)


def write_instalments(
    session: Session,
    loan: Loan,
    parts: Sequence[LoanPart],
    rows: Sequence[sched.ScheduledInstalment],
) -> None:
    """Store schedule rows (new numbers) with each part's share of each row."""
    for row in rows:
        instalment = Instalment(
            loan_id=loan.id,
            number=row.number,
            due_on=row.due_on,
            principal_minor=row.principal_minor,
            interest_minor=row.interest_minor,
        )
        for part, share in zip(parts, row.parts, strict=True):
            instalment.parts.append(
                InstalmentPart(
                    part_id=part.id,
                    principal_minor=share.principal_minor,
                    interest_minor=share.interest_minor,
                )
            )
        session.add(instalment)


def release_request(
    session: Session, request: LoanRequest, target: RequestStatus, *, now: datetime, reason: str
) -> None:
    """End a listing without a loan: every commitment's money goes back -- into its order
    when the order is still live (held again, to match other listings), else to the
    lender's wallet."""
    request.move_to(target)
    request.closed_at = now
    request.close_reason = reason
    if target == RequestStatus.EXPIRED:
        notices.listing_expired(session, request)
    commitments = held_commitments(session, request)
    orders = {
        o.id: o
        for o in lock_orders(session, {c.order_id for c in commitments if c.order_id is not None})
    }
    lenders = {c.lender_id for c in commitments}
    prepare_accounts(session, lenders, [])
    _release_commitments(session, commitments, CommitmentStatus.RELEASED, now=now)
    returned: dict[int, int] = defaultdict(int)
    for commitment in commitments:
        order = orders.get(commitment.order_id) if commitment.order_id else None
        if order is not None and order.status != OrderStatus.CANCELLED:
            returned[order.id] += commitment.amount_minor
    for order_id, amount in sorted(returned.items()):
        add_to_order(session, orders[order_id], amount)
    session.flush()


def min_acceptable(request: LoanRequest) -> int:
    return min_funded_minor(request.amount_minor, POLICY)
