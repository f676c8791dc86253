"""Early repayment: post the quoted principal and interest to the lenders and replace the
unpaid schedule with the shorter one (same instalment, fewer months). Flush-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank.lending import schedule as sched
from p2pbank.lending.models import (
    Instalment,
    InstalmentStatus,
    Loan,
    LoanPart,
    LoanStatus,
    Repayment,
    RepaymentKind,
)
from p2pbank.lending.repayment import Components, EarlyQuote, unpaid
from p2pbank.lending.rules import (
    POLICY,
    servicing_fees,
)
from p2pbank.lending.servicing import (
    lock_for_repayment,
    open_ratings,
    parts_of,
    post_to_lenders,
    reinvest_repayment,
)


def repay_early(
    session: Session,
    loan: Loan,
    rows: Sequence[Instalment],
    quote: EarlyQuote,
    *,
    key: str,
    now: datetime,
) -> Repayment:
    """Post an early repayment and replace the unpaid instalments by the new schedule."""
    parts = parts_of(session, loan)
    got = [
        Components(interest_minor=interest, principal_minor=prepaid)
        for prepaid, interest in zip(quote.prepaid_parts, quote.interest_parts, strict=True)
    ]
    fees = servicing_fees([g.fee_bearing_minor for g in got], POLICY)
    reinvest = lock_for_repayment(session, loan, parts)
    repayment = Repayment(
        loan_id=loan.id,
        kind=RepaymentKind.EARLY,
        amount_minor=quote.total_minor,
        principal_minor=quote.principal_minor,
        interest_minor=quote.interest_minor,
        servicing_fee_minor=sum(fees),
        idempotency_key=key,
        created_at=now,
    )
    post_to_lenders(session, loan, repayment, parts, got, fees, now=now)
    for part, g in zip(parts, got, strict=True):
        part.outstanding_minor -= g.principal_minor
    loan.outstanding_minor -= quote.principal_minor
    _replace_schedule(session, parts, unpaid(rows), quote.rest)
    reinvest_repayment(session, repayment, parts, reinvest)
    if loan.outstanding_minor == 0:
        loan.move_to(LoanStatus.REPAID)
        loan.closed_at = now
        open_ratings(session, loan, parts, now=now)
    return repayment


def _replace_schedule(
    session: Session,
    parts: Sequence[LoanPart],
    old_rows: Sequence[Instalment],
    rest: sched.Schedule | None,
) -> None:
    """Rewrite the unpaid (future, untouched) instalments in place; cancel the ones the
    shorter schedule no longer has."""
    new_rows = {row.number: row for row in (rest.instalments if rest else ())}
    by_part = {p.id: n for n, p in enumerate(parts)}
    for row in old_rows:
        new = new_rows.get(row.number)
        if new is None:
            row.status = InstalmentStatus.CANCELLED
            continue
        row.principal_minor = new.principal_minor
        row.interest_minor = new.interest_minor
        for ip in row.parts:
            share = new.parts[by_part[ip.part_id]]
            ip.principal_minor = share.principal_minor
            ip.interest_minor = share.interest_minor
    session.flush()
