"""Servicing a loan: load and lock it, pay instalments (each lender's share, minus the
servicing fee), reinvest, and record the repayment events the trust engine reads.
Flush-only; the command in services.py or due.py that calls these commits once. The pure
arithmetic (what is due, allocation, the plan of one payment, early quote) is in
repayment.py, late fees, default and recoveries in arrears.py, early repayment in
early_repayment.py. A payment is planned first, then applied: lock once, write the
instalments, post once, record the trust events once.

Each component of a payment is shared among the lenders' parts in proportion to what
each part is still owed for it (largest remainder), so the parts always add up to what
the borrower paid. Each lender receives their share minus the 1 % servicing fee on
principal and interest (late fees and nothing else go to the lenders in full); the fees
are split by largest remainder too.

After a default the debt is the principal written off; unpaid interest and late fees
stop there. Recoveries are shared pro rata to what each part had written off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.ledger import queries as ledger_queries
from p2pbank.lending import accounts, funding, notices
from p2pbank.lending import repayment as repay
from p2pbank.lending.models import (
    EventKind,
    Instalment,
    InstalmentPart,
    InstalmentStatus,
    LenderOrder,
    Loan,
    LoanPart,
    OrderStatus,
    Repayment,
    RepaymentEvent,
    RepaymentKind,
    RepaymentShare,
)
from p2pbank.lending.repayment import Components, Portion
from p2pbank.lending.rules import is_late
from p2pbank.trust import services as trust_services
from p2pbank.uow import for_update


def lock_loan(session: Session, loan_id: int) -> Loan | None:
    return session.scalar(for_update(select(Loan).where(Loan.id == loan_id)))


def instalments(session: Session, loan: Loan) -> list[Instalment]:
    """The loan's instalments, fresh from the database, oldest first."""
    return list(
        session.scalars(
            select(Instalment)
            .where(Instalment.loan_id == loan.id)
            .order_by(Instalment.number)
            .execution_options(populate_existing=True)
        )
    )


def parts_of(session: Session, loan: Loan) -> list[LoanPart]:
    return list(
        session.scalars(
            select(LoanPart)
            .where(LoanPart.loan_id == loan.id)
            .order_by(LoanPart.id)
            .execution_options(populate_existing=True)
        )
    )


def available(session: Session, user_id: int) -> int:
    return ledger_queries.balances(session, accounts.wallet_code(user_id)).available


def record_repayment_event(
    session: Session,
    *,
    loan: Loan,
    kind: EventKind,
    occurred_at: datetime,
    days_late: int = 0,
    instalment_number: int | None = None,
) -> None:
    """The one place lending tells the trust engine about repayment behaviour:
    stored as a RepaymentEvent row here (the interim grade reads them) and passed to
    `p2pbank.trust.services.record_repayment_event` in the same transaction, with the
    same key, so both sides hold each fact once."""
    suffix = f"instalment:{instalment_number}" if instalment_number is not None else "loan"
    key = f"loan:{loan.id}:{suffix}:{kind}:{occurred_at.date().isoformat()}"
    if session.scalar(select(RepaymentEvent.id).where(RepaymentEvent.event_key == key)):
        return
    session.add(
        RepaymentEvent(
            borrower_id=loan.borrower_id,
            loan_id=loan.id,
            instalment_number=instalment_number,
            kind=kind,
            days_late=days_late,
            occurred_at=occurred_at,
            event_key=key,
        )
    )
    trust_services.record_repayment_event(
        session,
        user_id=loan.borrower_id,
        kind=str(kind),
        days_late=days_late,
        occurred_at=occurred_at,
        loan_id=loan.id,
        instalment_number=instalment_number,
        event_key=key,
    )


def open_ratings(
    session: Session, loan: Loan, parts: Sequence[LoanPart] | None = None, *, now: datetime
) -> None:
    """The loan is over (repaid or defaulted): its borrower and each lender may now rate
    each other (trust). Flushes only."""
    lenders = {p.lender_id for p in (parts if parts is not None else parts_of(session, loan))}
    trust_services.record_completed_transaction(
        session,
        ref_type="loan",
        ref_id=loan.id,
        principal_id=loan.borrower_id,
        counterparty_ids=lenders,
        completed_at=now,
    )


def orders_to_reinvest(session: Session, parts: Sequence[LoanPart]) -> dict[int, LenderOrder]:
    ids = {p.order_id for p in parts if p.order_id is not None}
    return {
        o.id: o
        for o in funding.lock_orders(session, ids)
        if o.reinvest and o.status != OrderStatus.CANCELLED
    }


def lock_for_payment(session: Session, loan: Loan, parts: Sequence[LoanPart]) -> None:
    accounts.ensure_fees(session)
    accounts.ensure_borrower_accounts(session, loan.borrower_id)
    codes = [
        accounts.FEES,
        accounts.wallet_code(loan.borrower_id),
        accounts.owed_code(loan.borrower_id),
    ]
    for lender_id in sorted({p.lender_id for p in parts}):
        accounts.ensure_lender_accounts(session, lender_id)
        codes += [accounts.wallet_code(lender_id), accounts.lent_code(lender_id)]
    accounts.lock_accounts(session, codes)


def lock_for_repayment(
    session: Session, loan: Loan, parts: Sequence[LoanPart]
) -> dict[int, LenderOrder]:
    """Everything a repayment writes to, locked in one place: the reinvesting orders of
    the parts, then the accounts. Returns the orders that take their repayments back."""
    reinvest = orders_to_reinvest(session, parts)
    lock_for_payment(session, loan, parts)
    return reinvest


def pay_instalments(
    session: Session,
    loan: Loan,
    portions: Sequence[Portion[Instalment]],
    *,
    kind: RepaymentKind,
    key: str,
    now: datetime,
) -> Repayment:
    """Plan the payment (pure: what every instalment, part and lender receives), then lock
    once, apply the plan to the instalments, post the one repayment entry with its shares,
    pay reinvesting orders, and record the repayment events once."""
    parts = parts_of(session, loan)
    planned = repay.plan([p.id for p in parts], portions, now.date())
    reinvest = lock_for_repayment(session, loan, parts)
    _apply_to_instalments(session, loan, planned, now=now)
    paid = planned.paid
    repayment = Repayment(
        loan_id=loan.id,
        kind=kind,
        amount_minor=paid.total_minor,
        principal_minor=paid.principal_minor,
        interest_minor=paid.interest_minor,
        late_fee_minor=paid.late_fee_minor,
        servicing_fee_minor=planned.servicing_fee_minor,
        idempotency_key=key,
        created_at=now,
    )
    post_to_lenders(session, loan, repayment, parts, planned.parts, planned.fees, now=now)
    for part, got in zip(parts, planned.parts, strict=True):
        part.outstanding_minor -= got.principal_minor
    loan.outstanding_minor -= paid.principal_minor
    reinvest_repayment(session, repayment, parts, reinvest)
    late = [step.days_late for step in planned.settled if step.days_late]
    if late:
        loan.ever_late = loan.ever_late or any(is_late(days) for days in late)
    _record_settled(session, loan, planned, now=now)
    return repayment


def _add_paid(row: Instalment | InstalmentPart, paid: Components) -> None:
    row.late_fee_paid_minor += paid.late_fee_minor
    row.interest_paid_minor += paid.interest_minor
    row.principal_paid_minor += paid.principal_minor


def _apply_to_instalments(
    session: Session, loan: Loan, planned: repay.Plan[Instalment], *, now: datetime
) -> None:
    """Write what the plan pays into each instalment and its parts; mark the settled ones
    paid and tell the borrower."""
    for step in planned.instalments:
        row = step.instalment
        for ip, share in zip(row.parts, step.to_parts, strict=True):
            _add_paid(ip, share)
        _add_paid(row, step.paid)
        if step.settled:
            row.status = InstalmentStatus.PAID
            row.paid_at = now
            notices.instalment_paid(session, loan, row)


def _record_settled(
    session: Session, loan: Loan, planned: repay.Plan[Instalment], *, now: datetime
) -> None:
    """One repayment event per instalment the payment settled: late or on time."""
    for step in planned.settled:
        record_repayment_event(
            session,
            loan=loan,
            kind=EventKind.LATE if step.days_late else EventKind.ON_TIME,
            occurred_at=now,
            days_late=step.days_late,
            instalment_number=step.instalment.number,
        )


def post_to_lenders(
    session: Session,
    loan: Loan,
    repayment: Repayment,
    parts: Sequence[LoanPart],
    received: Sequence[Components],
    fees: Sequence[int],
    *,
    now: datetime,
    recovery: Sequence[int] | None = None,
) -> None:
    """Post the repayment entry and write the repayment's shares (one per paid part)."""
    shares = [
        RepaymentShare(
            part_id=part.id,
            lender_id=part.lender_id,
            principal_minor=got.principal_minor,
            interest_minor=got.interest_minor,
            late_fee_minor=got.late_fee_minor,
            recovery_minor=recovery[n] if recovery else 0,
            servicing_fee_minor=fees[n],
            created_at=now,
        )
        for n, (part, got) in enumerate(zip(parts, received, strict=True))
        if got.total_minor + (recovery[n] if recovery else 0)
    ]
    totals = repay.lender_totals([p.lender_id for p in parts], received, fees, recovery)
    for lender in totals:
        if lender.net_minor > 0:
            notices.repayment_received(session, loan, lender.lender_id, lender.net_minor)
    entries = accounts.post_with_lenders(
        session,
        lenders=_lender_legs(loan, totals),
        kind="loan_recovery" if recovery else "repayment",
        idempotency_key=repayment.idempotency_key,
        ref_type="loan",
        ref_id=loan.id,
        memo=f"Loan {loan.id}: {repayment.kind} payment shared among its lenders",
    )
    repayment.entry_id = entries[0].id
    session.add(repayment)
    session.flush()
    for share in shares:
        share.repayment_id = repayment.id
        session.add(share)
    session.flush()


def _lender_legs(loan: Loan, totals: Sequence[repay.LenderTotal]) -> list[accounts.LenderLegs]:
    """Each lender's legs: the net into their wallet, the principal off what they lent;
    the borrower pays the gross, the fees go to the platform."""
    borrower_wallet = accounts.wallet_code(loan.borrower_id)
    owed = accounts.owed_code(loan.borrower_id)
    return [
        accounts.LenderLegs(
            lender_id=lender.lender_id,
            wallet_minor=lender.net_minor,
            lent_minor=-lender.principal_minor,
            common={
                borrower_wallet: -lender.gross_minor,
                owed: lender.principal_minor,
                accounts.FEES: lender.fee_minor,
            },
        )
        for lender in totals
    ]


def reinvest_repayment(
    session: Session,
    repayment: Repayment,
    parts: Sequence[LoanPart],
    orders: dict[int, LenderOrder],
) -> None:
    """Orders with the reinvest switch on take back what their parts were just paid."""
    if not orders:
        return
    net_by_part = {
        share.part_id: share.net_minor
        for share in session.scalars(
            select(RepaymentShare).where(RepaymentShare.repayment_id == repayment.id)
        )
    }
    back: dict[int, int] = defaultdict(int)
    for part in parts:
        if part.order_id in orders:
            back[part.order_id] += net_by_part.get(part.id, 0)
    for order_id, amount in sorted(back.items()):
        if amount > 0:
            order = orders[order_id]
            order.amount_minor += amount
            funding.add_to_order(session, order, amount)
