"""Schedule previews: what a request would cost before it is listed, and the real schedule
of a partly funded request before its borrower accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import ValidationFailed
from p2pbank.lending import issuing, rules
from p2pbank.lending import schedule as sched
from p2pbank.lending.eligibility import grade_borrower
from p2pbank.lending.models import (
    LoanRequest,
)
from p2pbank.lending.read.views import ScheduleRow
from p2pbank.lending.rules import POLICY


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
        raise ValidationFailed.of(errors)
    now = clock.now()
    grade = grade_borrower(session, borrower_id, now)
    fee = rules.origination_fee(amount_minor, grade.grade, POLICY)
    schedule = sched.build_schedule(
        [sched.ScheduledPart(amount_minor, max_rate_bps)],
        term_months,
        now.date(),
        sched.Method(method),
        fee_minor=fee,
    )
    return _preview_from(schedule, rate_bps=max_rate_bps, grade=grade.grade, reasons=grade.reasons)


def acceptance_preview(session: Session, request: LoanRequest) -> SchedulePreview | None:
    """The real schedule of a partly funded request, from its commitments, if issued today."""
    commitments = issuing.held_commitments(session, request)
    if not commitments:
        return None
    schedule = issuing.quote_schedule(request, commitments, clock.now().date())
    total = sum(c.amount_minor for c in commitments)
    rate = (2 * sum(c.amount_minor * c.rate_bps for c in commitments) + total) // (2 * total)
    return _preview_from(
        schedule, rate_bps=rate, grade=request.grade, reasons=request.grade_reasons
    )
