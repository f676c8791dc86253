"""Borrowers' lending commands: list a request, cancel or accept it, pay what is due, repay
early. Lenders' commands (orders, commitments) are in ordering.py, the scheduled work in
due.py, what all of them share in access.py.

Every money command is idempotent (an idempotency key per request) and atomic: it runs
inside the one command boundary (p2pbank/uow.py), so an error leaves nothing written.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import (
    Conflict,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from p2pbank.identity.models import User
from p2pbank.lending import arrears, early_repayment, eligibility, funding, issuing, servicing
from p2pbank.lending import repayment as repay
from p2pbank.lending.access import (
    checked_key,
    load_user,
    need_funds,
    refuse_fields,
    require_borrower,
)
from p2pbank.lending.models import (
    Loan,
    LoanRequest,
    LoanStatus,
    Repayment,
    RepaymentKind,
    RequestStatus,
)
from p2pbank.lending.rules import (
    POLICY,
    check_request_terms,
    euros,
)
from p2pbank.permissions import Permission
from p2pbank.uow import command


def _has_open_business(session: Session, borrower_id: int) -> str | None:
    open_request = session.scalar(
        select(LoanRequest.id).where(
            LoanRequest.borrower_id == borrower_id,
            LoanRequest.status.in_([RequestStatus.LISTED, RequestStatus.AWAITING_ACCEPTANCE]),
        )
    )
    if open_request:
        return "You already have an open loan request; one at a time."
    open_loan = session.scalar(
        select(Loan.id).where(
            Loan.borrower_id == borrower_id,
            (Loan.status.in_([LoanStatus.ACTIVE, LoanStatus.LATE]))
            | (
                (Loan.status == LoanStatus.DEFAULTED)
                & (Loan.recovered_minor < Loan.written_off_minor)
            ),
        )
    )
    if open_loan:
        return "You have a loan that is not repaid yet; one loan at a time."
    return None


def request_loan(
    session: Session,
    borrower_id: int,
    *,
    amount_minor: int,
    term_months: int,
    max_rate_bps: int,
    purpose_category: str,
    purpose_text: str,
    method: str = "annuity",
    idempotency_key: str | None = None,
) -> LoanRequest:
    """List a loan request on the marketplace; it is graded now and matched at once."""
    with command(session):
        now = clock.now()
        borrower = load_user(session, borrower_id, lock=True)
        require_borrower(borrower)
        key = checked_key(idempotency_key)
        existing = session.scalar(
            select(LoanRequest).where(
                LoanRequest.borrower_id == borrower_id, LoanRequest.idempotency_key == key
            )
        )
        if existing is not None:
            return existing
        refuse_fields(
            check_request_terms(
                amount_minor=amount_minor,
                term_months=term_months,
                max_rate_bps=max_rate_bps,
                purpose_category=purpose_category,
                purpose_text=purpose_text,
                method=method,
            )
        )
        limit = eligibility.borrowing_limit(session, borrower_id)
        if amount_minor > limit.amount_minor:
            message = f"Over your limit of {euros(limit.amount_minor)}: {limit.reason}"
            raise ValidationFailed.on("amount_minor", message)
        busy = _has_open_business(session, borrower_id)
        if busy:
            raise Conflict(busy)
        grade = eligibility.grade_borrower(session, borrower_id, now)
        request = LoanRequest(
            borrower_id=borrower_id,
            amount_minor=amount_minor,
            term_months=term_months,
            max_rate_bps=max_rate_bps,
            method=method,
            purpose_category=purpose_category,
            purpose_text=purpose_text.strip(),
            grade=grade.grade,
            grade_reasons_json=json.dumps(list(grade.reasons)),
            grade_rule_version=grade.version,
            origination_fee_bps=POLICY.origination_fee_bps[grade.grade],
            status=RequestStatus.LISTED,
            idempotency_key=key,
            listed_at=now,
            expires_at=now + timedelta(days=POLICY.listing_days),
        )
        session.add(request)
        session.flush()
        orders = funding.lock_active_orders(session)
        funding.match(
            session, [request], orders, trigger="listing_placed", now=now, record_empty=True
        )
    return request


def _own_request(session: Session, actor: User, request_id: int) -> LoanRequest:
    locked = funding.lock_requests(session, [request_id])
    if not locked or (locked[0].borrower_id != actor.id and not actor.may(Permission.OVERSEE)):
        raise NotFound("No such loan request.")
    return locked[0]


def cancel_request(session: Session, actor_id: int, request_id: int) -> LoanRequest:
    """The borrower (or an admin) withdraws a listing before it is funded, or declines a
    partly funded one; every lender's money is released."""
    with command(session):
        actor = load_user(session, actor_id)
        request = _own_request(session, actor, request_id)
        if request.status not in (RequestStatus.LISTED, RequestStatus.AWAITING_ACCEPTANCE):
            raise InvalidState(f"This request is {request.status}; it cannot be cancelled.")
        reason = "cancelled by the borrower" if actor.id == request.borrower_id else "cancelled"
        issuing.release_request(
            session, request, RequestStatus.CANCELLED, now=clock.now(), reason=reason
        )
    return request


def accept_request(session: Session, borrower_id: int, request_id: int) -> Loan:
    """Accept a partly funded request (at least 70 %) within 48 hours of its window: the
    loan is issued for the amount funded."""
    with command(session):
        now = clock.now()
        borrower = load_user(session, borrower_id)
        request = _own_request(session, borrower, request_id)
        if request.borrower_id != borrower_id:
            raise NotFound("No such loan request.")
        if request.status != RequestStatus.AWAITING_ACCEPTANCE:
            raise InvalidState("Only a partly funded request waiting for you can be accepted.")
        if request.accept_by is None or now >= request.accept_by:
            raise InvalidState("The 48 hours to accept this request are over.")
        commitments = issuing.held_commitments(session, request)
        funding.prepare_accounts(session, {c.lender_id for c in commitments}, [request])
        loan = issuing.issue_loan(session, request, now=now)
    return loan


def _own_loan(session: Session, borrower_id: int, loan_id: int) -> Loan:
    loan = servicing.lock_loan(session, loan_id)
    if loan is None or loan.borrower_id != borrower_id:
        raise NotFound("No such loan.")
    return loan


def _existing_repayment(session: Session, key: str) -> Repayment | None:
    return session.scalar(select(Repayment).where(Repayment.idempotency_key == key))


def pay_now(
    session: Session,
    borrower_id: int,
    loan_id: int,
    *,
    amount_minor: int | None = None,
    idempotency_key: str | None = None,
) -> Repayment:
    """Pay from the wallet now: everything due (or `amount_minor` of it, oldest first);
    when nothing is due, the next instalment in full. After a default, this pays back the
    written-off debt (all of it, or `amount_minor`), shared among the lenders pro rata."""
    with command(session):
        now = clock.now()
        loan = _own_loan(session, borrower_id, loan_id)
        key = f"lending:loan:{loan.id}:pay:{checked_key(idempotency_key)}"
        existing = _existing_repayment(session, key)
        if existing is not None:
            return existing
        if amount_minor is not None and (type(amount_minor) is not int or amount_minor <= 0):
            raise ValidationFailed(
                "Give a positive amount in cents.",
                field_errors={"amount_minor": ["Give a positive amount in cents."]},
            )
        if loan.status == LoanStatus.DEFAULTED:
            debt = loan.written_off_minor - loan.recovered_minor
            if debt <= 0:
                raise InvalidState("This loan is settled; nothing is owed.")
            amount = debt if amount_minor is None else amount_minor
            if amount > debt:
                message = f"Only {euros(debt)} is owed."
                raise ValidationFailed.on("amount_minor", message)
            need_funds(session, borrower_id, amount)
            repayment = arrears.recover(session, loan, amount, key=key, now=now)
            assert repayment is not None
            return repayment
        if not loan.is_open:
            raise InvalidState("This loan is repaid; nothing is owed.")
        rows = servicing.instalments(session, loan)
        arrears.charge_late_fees(session, loan, rows, now)
        due = repay.due(rows, now.date())
        if due:
            owed = sum(r.owed_minor for r in due)
            amount = owed if amount_minor is None else amount_minor
            if amount > owed:
                message = f"{euros(owed)} is due. Pay that, or repay early to pay off more."
                raise ValidationFailed.on("amount_minor", message)
            targets = due
        else:
            upcoming = repay.unpaid(rows)[0]
            amount = upcoming.owed_minor
            if amount_minor is not None and amount_minor != amount:
                message = (
                    f"Nothing is due yet: pay the next instalment of {euros(amount)} in "
                    "full, or repay early."
                )
                raise ValidationFailed.on("amount_minor", message)
            targets = [upcoming]
        need_funds(session, borrower_id, amount)
        portions = repay.allocate_payment(targets, amount)
        repayment = servicing.pay_instalments(
            session, loan, portions, kind=RepaymentKind.PAY_NOW, key=key, now=now
        )
        arrears.refresh_status(session, loan, rows, now)
    return repayment


def repay_early(
    session: Session,
    borrower_id: int,
    loan_id: int,
    *,
    principal_minor: int | None = None,
    idempotency_key: str | None = None,
) -> Repayment:
    """Repay principal early, all of it (None) or part, without penalty: only interest for
    the days since the last due date is charged on the amount repaid. The instalment stays
    the same and the term gets shorter."""
    with command(session):
        now = clock.now()
        loan = _own_loan(session, borrower_id, loan_id)
        key = f"lending:loan:{loan.id}:early:{checked_key(idempotency_key)}"
        existing = _existing_repayment(session, key)
        if existing is not None:
            return existing
        if not loan.is_open:
            raise InvalidState("Only a running loan can be repaid early.")
        rows = servicing.instalments(session, loan)
        arrears.charge_late_fees(session, loan, rows, now)
        if repay.due(rows, now.date()):
            raise InvalidState("Pay what is due first (Pay now), then repay early.")
        if principal_minor is not None and (
            type(principal_minor) is not int or not 0 < principal_minor <= loan.outstanding_minor
        ):
            message = f"Repay from EUR 0.01 to the {euros(loan.outstanding_minor)} outstanding."
            raise ValidationFailed.on("principal_minor", message)
        parts = servicing.parts_of(session, loan)
        quote = repay.quote_early(loan, parts, rows, principal_minor, now.date())
        need_funds(session, borrower_id, quote.total_minor)
        repayment = early_repayment.repay_early(session, loan, rows, quote, key=key, now=now)
    return repayment
