"""Lending use cases. Each public function is one command: it takes the session first,
checks who may do it, does its work through funding.py / servicing.py and the ledger
(which only flush), and commits once; on any error it rolls back, so nothing is written.

Every money command is idempotent: requests, orders, commitments and payments take a
client key (a repeat with the same key returns the first result), and the job derives
its keys from the state it works on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import (
    Conflict,
    Forbidden,
    InsufficientFunds,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from p2pbank.identity.models import Role, User
from p2pbank.ledger import services as ledger
from p2pbank.lending import eligibility, funding, matching, servicing
from p2pbank.lending.models import (
    Commitment,
    Instalment,
    InstalmentStatus,
    LenderOrder,
    Loan,
    LoanRequest,
    LoanStatus,
    MatchRecord,
    OrderStatus,
    Repayment,
    RepaymentKind,
    RequestStatus,
)
from p2pbank.lending.rules import (
    POLICY,
    check_order_terms,
    check_request_terms,
    default_borrower_cap,
    euros,
    percent,
)
from p2pbank.money import Money

# --- plumbing ------------------------------------------------------------------------------


@contextmanager
def _command(session: Session) -> Iterator[None]:
    """One transaction: commit at the end, roll back on any error (nothing written)."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, field_errors=errors)


def _key(idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return uuid.uuid4().hex
    key = idempotency_key.strip()
    if not 1 <= len(key) <= 100:
        raise ValidationFailed(
            "The idempotency key must be 1 to 100 characters.",
            field_errors={"idempotency_key": ["Must be 1 to 100 characters."]},
        )
    return key


def _user(session: Session, user_id: int, *, lock: bool = False) -> User:
    stmt = select(User).where(User.id == user_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    user = session.scalar(stmt)
    if user is None:
        raise NotFound("No such user.")
    return user


def _require_borrower(user: User) -> None:
    if not user.has_role(Role.BORROWER):
        raise Forbidden("Only members with the borrower role can ask for a loan.")
    if not user.kyc_verified:
        raise Forbidden("Your identity check (KYC) must be verified before you can borrow.")


def _require_lender(user: User) -> None:
    if not user.has_role(Role.LENDER):
        raise Forbidden("Only members with the lender role can lend.")
    if not user.kyc_verified:
        raise Forbidden("Your identity check (KYC) must be verified before you can lend.")


def _is_admin(user: User) -> bool:
    return user.has_role(Role.ADMIN)


# --- borrowers: requests -------------------------------------------------------------------


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
    with _command(session):
        now = clock.now()
        borrower = _user(session, borrower_id, lock=True)
        _require_borrower(borrower)
        key = _key(idempotency_key)
        existing = session.scalar(
            select(LoanRequest).where(
                LoanRequest.borrower_id == borrower_id, LoanRequest.idempotency_key == key
            )
        )
        if existing is not None:
            return existing
        _refuse(
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
            raise ValidationFailed(message, field_errors={"amount_minor": [message]})
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
    if not locked or (locked[0].borrower_id != actor.id and not _is_admin(actor)):
        raise NotFound("No such loan request.")
    return locked[0]


def cancel_request(session: Session, actor_id: int, request_id: int) -> LoanRequest:
    """The borrower (or an admin) withdraws a listing before it is funded, or declines a
    partly funded one; every lender's money is released."""
    with _command(session):
        actor = _user(session, actor_id)
        request = _own_request(session, actor, request_id)
        if request.status not in (RequestStatus.LISTED, RequestStatus.AWAITING_ACCEPTANCE):
            raise InvalidState(f"This request is {request.status}; it cannot be cancelled.")
        reason = "cancelled by the borrower" if actor.id == request.borrower_id else "cancelled"
        funding.release_request(
            session, request, RequestStatus.CANCELLED, now=clock.now(), reason=reason
        )
    return request


def accept_request(session: Session, borrower_id: int, request_id: int) -> Loan:
    """Accept a partly funded request (at least 70 %) within 48 hours of its window: the
    loan is issued for the amount funded."""
    with _command(session):
        now = clock.now()
        borrower = _user(session, borrower_id)
        request = _own_request(session, borrower, request_id)
        if request.borrower_id != borrower_id:
            raise NotFound("No such loan request.")
        if request.status != RequestStatus.AWAITING_ACCEPTANCE:
            raise InvalidState("Only a partly funded request waiting for you can be accepted.")
        if request.accept_by is None or now >= request.accept_by:
            raise InvalidState("The 48 hours to accept this request are over.")
        commitments = funding.held_commitments(session, request)
        funding.prepare_accounts(session, {c.lender_id for c in commitments}, [request])
        loan = funding.issue_loan(session, request, now=now)
    return loan


# --- lenders: orders and commitments -------------------------------------------------------


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
    with _command(session):
        now = clock.now()
        lender = _user(session, lender_id)
        _require_lender(lender)
        key = _key(idempotency_key)
        existing = session.scalar(
            select(LenderOrder).where(
                LenderOrder.lender_id == lender_id, LenderOrder.idempotency_key == key
            )
        )
        if existing is not None:
            return existing
        _refuse(
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
        _need_funds(session, lender_id, amount_minor)
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
    with _command(session):
        order = _own_order(session, lender_id, order_id)
        if order.status == OrderStatus.CANCELLED:
            return order
        funding.accounts.ensure_lender_accounts(session, lender_id)
        funding.accounts.lock_accounts(session, [funding.accounts.wallet(lender_id)])
        funding.release_order_hold(session, order)
        order.remaining_minor = 0
        order.move_to(OrderStatus.CANCELLED)
        order.cancelled_at = clock.now()
    return order


def set_reinvest(session: Session, lender_id: int, order_id: int, reinvest: bool) -> LenderOrder:
    """Switch automatic reinvestment of repayments on or off for one order."""
    with _command(session):
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
    with _command(session):
        now = clock.now()
        lender = _user(session, lender_id)
        _require_lender(lender)
        key = _key(idempotency_key)
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
        _refuse(errors)
        if amount_minor > request.open_minor:
            if request.open_minor == 0:
                raise Conflict("This listing is fully funded.")
            raise Conflict(f"Only {euros(request.open_minor)} of this listing is still open.")
        offer = matching.Offer(
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
        completes = result.is_fully_funded
        funding.accounts.ensure_lender_accounts(session, lender_id)
        _need_funds(session, lender_id, amount_minor)
        earlier = {c.lender_id for c in funding.held_commitments(session, request)}
        funding.prepare_accounts(
            session,
            {lender_id} | (earlier if completes else set()),
            [request] if completes else [],
        )
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
        held = ledger.hold(
            session,
            account_code=funding.accounts.wallet(lender_id),
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
        if completes:
            funding.issue_loan(session, request, now=now)
    return commitment


# --- borrowers: paying ---------------------------------------------------------------------


def _own_loan(session: Session, borrower_id: int, loan_id: int) -> Loan:
    loan = servicing.lock_loan(session, loan_id)
    if loan is None or loan.borrower_id != borrower_id:
        raise NotFound("No such loan.")
    return loan


def _existing_repayment(session: Session, key: str) -> Repayment | None:
    return session.scalar(select(Repayment).where(Repayment.idempotency_key == key))


def _need_funds(session: Session, borrower_id: int, amount_minor: int) -> None:
    have = servicing.available(session, borrower_id)
    if have < amount_minor:
        raise InsufficientFunds(
            f"Your wallet has {euros(max(have, 0))} available; {euros(amount_minor)} is "
            "needed. Add money first."
        )


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
    with _command(session):
        now = clock.now()
        loan = _own_loan(session, borrower_id, loan_id)
        key = f"lending:loan:{loan.id}:pay:{_key(idempotency_key)}"
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
                raise ValidationFailed(message, field_errors={"amount_minor": [message]})
            _need_funds(session, borrower_id, amount)
            repayment = servicing.recover(session, loan, amount, key=key, now=now)
            assert repayment is not None
            return repayment
        if not loan.is_open:
            raise InvalidState("This loan is repaid; nothing is owed.")
        rows = servicing.instalments(session, loan)
        servicing.charge_late_fees(session, loan, rows, now)
        due = servicing.due(rows, now.date())
        if due:
            owed = sum(r.owed_minor for r in due)
            amount = owed if amount_minor is None else amount_minor
            if amount > owed:
                message = f"{euros(owed)} is due. Pay that, or repay early to pay off more."
                raise ValidationFailed(message, field_errors={"amount_minor": [message]})
            targets = due
        else:
            upcoming = servicing.unpaid(rows)[0]
            amount = upcoming.owed_minor
            if amount_minor is not None and amount_minor != amount:
                message = (
                    f"Nothing is due yet: pay the next instalment of {euros(amount)} in "
                    "full, or repay early."
                )
                raise ValidationFailed(message, field_errors={"amount_minor": [message]})
            targets = [upcoming]
        _need_funds(session, borrower_id, amount)
        portions = servicing.allocate_payment(targets, amount)
        repayment = servicing.pay_instalments(
            session, loan, portions, kind=RepaymentKind.PAY_NOW, key=key, now=now
        )
        servicing.refresh_status(session, loan, rows, now)
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
    with _command(session):
        now = clock.now()
        loan = _own_loan(session, borrower_id, loan_id)
        key = f"lending:loan:{loan.id}:early:{_key(idempotency_key)}"
        existing = _existing_repayment(session, key)
        if existing is not None:
            return existing
        if not loan.is_open:
            raise InvalidState("Only a running loan can be repaid early.")
        rows = servicing.instalments(session, loan)
        servicing.charge_late_fees(session, loan, rows, now)
        if servicing.due(rows, now.date()):
            raise InvalidState("Pay what is due first (Pay now), then repay early.")
        if principal_minor is not None and (
            type(principal_minor) is not int or not 0 < principal_minor <= loan.outstanding_minor
        ):
            message = f"Repay from EUR 0.01 to the {euros(loan.outstanding_minor)} outstanding."
            raise ValidationFailed(message, field_errors={"principal_minor": [message]})
        parts = servicing.parts_of(session, loan)
        quote = servicing.quote_early(loan, parts, rows, principal_minor, now.date())
        _need_funds(session, borrower_id, quote.total_minor)
        repayment = servicing.repay_early(session, loan, rows, quote, key=key, now=now)
    return repayment


# --- the job -------------------------------------------------------------------------------


def run_due_lending(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Everything lending must do by `now`: end listing windows (partial funding waits 48
    hours for the borrower, else the money is released), collect due instalments from
    wallets, charge late fees, move loans to late / back to active / defaulted, collect
    recoveries, and re-run matching over the whole book. Each listing and each loan is its
    own transaction, so one refusal never undoes the others' work."""
    now = now or clock.now()
    done = {
        "listings_expired": 0,
        "awaiting_acceptance": 0,
        "repayments": 0,
        "late_fees": 0,
        "defaults": 0,
        "recoveries": 0,
        "loans_issued": 0,
    }
    ending = session.scalars(
        select(LoanRequest.id)
        .where(
            LoanRequest.status == RequestStatus.LISTED,
            LoanRequest.expires_at <= now,
        )
        .order_by(LoanRequest.id)
    ).all()
    for request_id in ending:
        outcome = _end_window(session, request_id, now)
        if outcome:
            done[outcome] += 1
    lapsed = session.scalars(
        select(LoanRequest.id)
        .where(
            LoanRequest.status == RequestStatus.AWAITING_ACCEPTANCE,
            LoanRequest.accept_by <= now,
        )
        .order_by(LoanRequest.id)
    ).all()
    for request_id in lapsed:
        with _command(session):
            locked = funding.lock_requests(session, [request_id])
            request = locked[0]
            if request.status == RequestStatus.AWAITING_ACCEPTANCE and request.accept_by <= now:
                funding.release_request(
                    session,
                    request,
                    RequestStatus.EXPIRED,
                    now=now,
                    reason="the borrower did not accept the partial funding in time",
                )
                done["listings_expired"] += 1
    loans_due = session.scalars(
        select(Loan.id)
        .where(
            Loan.status.in_([LoanStatus.ACTIVE, LoanStatus.LATE]),
            Loan.id.in_(
                select(Instalment.loan_id).where(
                    Instalment.status == InstalmentStatus.SCHEDULED,
                    Instalment.due_on <= now.date(),
                )
            ),
        )
        .order_by(Loan.id)
    ).all()
    for loan_id in loans_due:
        with _command(session):
            _service_loan(session, loan_id, now, done)
    defaulted = session.scalars(
        select(Loan.id)
        .where(
            Loan.status == LoanStatus.DEFAULTED,
            Loan.recovered_minor < Loan.written_off_minor,
        )
        .order_by(Loan.id)
    ).all()
    for loan_id in defaulted:
        with _command(session):
            loan = servicing.lock_loan(session, loan_id)
            assert loan is not None
            budget = servicing.available(session, loan.borrower_id)
            if budget > 0:
                key = f"lending:loan:{loan.id}:collect:{_repayment_count(session, loan) + 1}"
                if servicing.recover(session, loan, budget, key=key, now=now):
                    done["recoveries"] += 1
    with _command(session):
        listings = funding.lock_open_listings(session, now)
        orders = funding.lock_active_orders(session)
        done["loans_issued"] += len(
            funding.match(session, listings, orders, trigger="rematch", now=now)
        )
    return done


def _end_window(session: Session, request_id: int, now: datetime) -> str | None:
    with _command(session):
        request = funding.lock_requests(session, [request_id])[0]
        if request.status != RequestStatus.LISTED or request.expires_at > now:
            return None
        if request.funded_minor > 0 and request.funded_minor >= funding.min_acceptable(request):
            request.move_to(RequestStatus.AWAITING_ACCEPTANCE)
            request.accept_by = request.expires_at + timedelta(hours=POLICY.accept_hours)
            return "awaiting_acceptance"
        funding.release_request(
            session,
            request,
            RequestStatus.EXPIRED,
            now=now,
            reason="the listing window ended below the 70% needed",
        )
        return "listings_expired"


def _repayment_count(session: Session, loan: Loan) -> int:
    return session.scalar(select(func.count(Repayment.id)).where(Repayment.loan_id == loan.id)) or 0


def _service_loan(session: Session, loan_id: int, now: datetime, done: dict[str, int]) -> None:
    loan = servicing.lock_loan(session, loan_id)
    if loan is None or not loan.is_open:
        return
    rows = servicing.instalments(session, loan)
    done["late_fees"] += servicing.charge_late_fees(session, loan, rows, now)
    due = servicing.due(rows, now.date())
    budget = min(servicing.available(session, loan.borrower_id), sum(r.owed_minor for r in due))
    if budget > 0:
        portions = servicing.allocate_payment(due, budget)
        key = f"lending:loan:{loan.id}:collect:{_repayment_count(session, loan) + 1}"
        servicing.pay_instalments(
            session, loan, portions, kind=RepaymentKind.SCHEDULED, key=key, now=now
        )
        done["repayments"] += 1
    if servicing.refresh_status(session, loan, rows, now) == LoanStatus.DEFAULTED:
        done["defaults"] += 1
