"""Servicing a loan: repayments, arrears, late fees, default and write-off, recoveries,
early repayment, and the repayment events the trust engine reads. Flush-only; the command
in services.py that calls these commits once.

Allocation of a payment (after Apache Fineract's default strategy): instalments oldest
first, and within an instalment late fee, then interest, then principal. Each component
is shared among the lenders' parts in proportion to what each part is still owed for it
(largest remainder), so the parts always add up to what the borrower paid. Each lender
receives their share minus the 1 % servicing fee on principal and interest (late fees
and nothing else go to the lenders in full); the fees are split by largest remainder too.

After a default the debt is the principal written off; unpaid interest and late fees
stop there. Recoveries are shared pro rata to what each part had written off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.ledger import queries as ledger_queries
from p2pbank.lending import accounts, funding
from p2pbank.lending import schedule as sched
from p2pbank.lending.models import (
    EventKind,
    Instalment,
    InstalmentStatus,
    LenderOrder,
    Loan,
    LoanPart,
    LoanStatus,
    OrderStatus,
    Repayment,
    RepaymentEvent,
    RepaymentKind,
    RepaymentShare,
    WriteOff,
)
from p2pbank.lending.rules import (
    POLICY,
    accrued_interest,
    days_past_due,
    is_default,
    is_late,
    late_fee,
    servicing_fees,
    split_by_remaining,
)
from p2pbank.money import allocate
from p2pbank.trust import services as trust_services

# --- loading -------------------------------------------------------------------------------


def lock_loan(session: Session, loan_id: int) -> Loan | None:
    return session.scalar(
        select(Loan)
        .where(Loan.id == loan_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


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


def unpaid(rows: Sequence[Instalment]) -> list[Instalment]:
    return [i for i in rows if i.status == InstalmentStatus.SCHEDULED]


def due(rows: Sequence[Instalment], today: date) -> list[Instalment]:
    """Instalments due on or before today and not fully paid, oldest first."""
    return [i for i in unpaid(rows) if i.due_on <= today]


def loan_days_past_due(rows: Sequence[Instalment], today: date) -> int:
    overdue = [i.due_on for i in unpaid(rows) if i.due_on < today]
    return days_past_due(min(overdue) if overdue else None, today)


def available(session: Session, user_id: int) -> int:
    return ledger_queries.balances(session, accounts.wallet(user_id)).available


# --- repayment events ----------------------------------------------------------------------


def record_repayment_event(
    session: Session,
    *,
    loan: Loan,
    kind: EventKind,
    occurred_at: datetime,
    days_late: int = 0,
    instalment_number: int | None = None,
) -> None:
    """The one place lending tells the trust engine (issue 6) about repayment behaviour:
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
    each other (trust, issue 6). Flushes only."""
    lenders = {p.lender_id for p in (parts if parts is not None else parts_of(session, loan))}
    trust_services.record_completed_transaction(
        session,
        ref_type="loan",
        ref_id=loan.id,
        principal_id=loan.borrower_id,
        counterparty_ids=lenders,
        completed_at=now,
    )


# --- paying instalments --------------------------------------------------------------------


@dataclass
class Portion:
    """What one payment puts into one instalment, by component."""

    instalment: Instalment
    late_fee_minor: int = 0
    interest_minor: int = 0
    principal_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.late_fee_minor + self.interest_minor + self.principal_minor


def allocate_payment(rows: Sequence[Instalment], budget_minor: int) -> list[Portion]:
    """Oldest instalment first; late fee, interest, principal within each."""
    portions = []
    left = budget_minor
    for row in rows:
        if left <= 0:
            break
        portion = Portion(row)
        for component in ("late_fee", "interest", "principal"):
            owed = getattr(row, f"{component}_minor") - getattr(row, f"{component}_paid_minor")
            take = min(owed, left)
            setattr(portion, f"{component}_minor", take)
            left -= take
        if portion.total_minor:
            portions.append(portion)
    return portions


def _orders_to_reinvest(session: Session, parts: Sequence[LoanPart]) -> dict[int, LenderOrder]:
    ids = {p.order_id for p in parts if p.order_id is not None}
    return {
        o.id: o
        for o in funding.lock_orders(session, ids)
        if o.reinvest and o.status != OrderStatus.CANCELLED
    }


def _lock_for_payment(session: Session, loan: Loan, parts: Sequence[LoanPart]) -> None:
    accounts.ensure_fees(session)
    accounts.ensure_borrower_accounts(session, loan.borrower_id)
    codes = [accounts.FEES, accounts.wallet(loan.borrower_id), accounts.owed_code(loan.borrower_id)]
    for lender_id in sorted({p.lender_id for p in parts}):
        accounts.ensure_lender_accounts(session, lender_id)
        codes += [accounts.wallet(lender_id), accounts.lent_code(lender_id)]
    accounts.lock_accounts(session, codes)


def pay_instalments(
    session: Session,
    loan: Loan,
    portions: Sequence[Portion],
    *,
    kind: RepaymentKind,
    key: str,
    now: datetime,
) -> Repayment:
    """Apply the portions to the instalments and their parts, post the one repayment
    entry, record the shares, pay reinvesting orders, and emit the repayment events."""
    parts = parts_of(session, loan)
    index = {p.id: n for n, p in enumerate(parts)}
    got = [[0, 0, 0] for _ in parts]  # principal, interest, late fee per part
    late_paid: list[tuple[Instalment, int]] = []
    for portion in portions:
        row = portion.instalment
        ips = row.parts
        for component, slot in (("late_fee", 2), ("interest", 1), ("principal", 0)):
            amount = getattr(portion, f"{component}_minor")
            if not amount:
                continue
            owed = [
                getattr(ip, f"{component}_minor") - getattr(ip, f"{component}_paid_minor")
                for ip in ips
            ]
            for ip, share in zip(ips, split_by_remaining(amount, owed), strict=True):
                setattr(
                    ip, f"{component}_paid_minor", getattr(ip, f"{component}_paid_minor") + share
                )
                got[index[ip.part_id]][slot] += share
            setattr(
                row, f"{component}_paid_minor", getattr(row, f"{component}_paid_minor") + amount
            )
        if row.owed_minor == 0:
            row.status = InstalmentStatus.PAID
            row.paid_at = now
            lateness = max((now.date() - row.due_on).days, 0)
            if lateness:
                late_paid.append((row, lateness))
                record_repayment_event(
                    session,
                    loan=loan,
                    kind=EventKind.LATE,
                    occurred_at=now,
                    days_late=lateness,
                    instalment_number=row.number,
                )
            else:
                record_repayment_event(
                    session,
                    loan=loan,
                    kind=EventKind.ON_TIME,
                    occurred_at=now,
                    instalment_number=row.number,
                )
    gross = [g[0] + g[1] for g in got]
    fees = servicing_fees(gross, POLICY)
    reinvest = _orders_to_reinvest(session, parts)
    _lock_for_payment(session, loan, parts)

    principal = sum(g[0] for g in got)
    repayment = Repayment(
        loan_id=loan.id,
        kind=kind,
        amount_minor=sum(p.total_minor for p in portions),
        principal_minor=principal,
        interest_minor=sum(g[1] for g in got),
        late_fee_minor=sum(g[2] for g in got),
        servicing_fee_minor=sum(fees),
        idempotency_key=key,
        created_at=now,
    )
    _post_to_lenders(session, loan, repayment, parts, got, fees, now=now)
    for part, g in zip(parts, got, strict=True):
        part.outstanding_minor -= g[0]
    loan.outstanding_minor -= principal
    _reinvest(session, repayment, parts, reinvest)
    if late_paid:
        loan.ever_late = loan.ever_late or any(is_late(days) for _row, days in late_paid)
    return repayment


def _post_to_lenders(
    session: Session,
    loan: Loan,
    repayment: Repayment,
    parts: Sequence[LoanPart],
    got: Sequence[Sequence[int]],
    fees: Sequence[int],
    *,
    now: datetime,
    recovery: Sequence[int] | None = None,
) -> None:
    """Post the repayment entry and write the repayment's shares (one per paid part)."""
    borrower_wallet = accounts.wallet(loan.borrower_id)
    owed = accounts.owed_code(loan.borrower_id)
    by_lender: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # net, principal, gross
    shares = []
    for n, part in enumerate(parts):
        principal, interest, fee_late = got[n]
        recovered = recovery[n] if recovery else 0
        gross_n = principal + interest + fee_late + recovered
        if gross_n == 0:
            continue
        shares.append(
            RepaymentShare(
                part_id=part.id,
                lender_id=part.lender_id,
                principal_minor=principal,
                interest_minor=interest,
                late_fee_minor=fee_late,
                recovery_minor=recovered,
                servicing_fee_minor=fees[n],
                created_at=now,
            )
        )
        totals = by_lender[part.lender_id]
        totals[0] += gross_n - fees[n]
        totals[1] += principal
        totals[2] += gross_n
    rows = []
    for lender_id, (net, principal, gross_sum) in sorted(by_lender.items()):
        rows.append(
            accounts.LenderLegs(
                lender_id=lender_id,
                wallet_minor=net,
                lent_minor=-principal,
                common={
                    borrower_wallet: -gross_sum,
                    owed: principal,
                    accounts.FEES: gross_sum - net,
                },
            )
        )
    entries = accounts.post_with_lenders(
        session,
        lenders=rows,
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


def _reinvest(
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


# --- arrears -------------------------------------------------------------------------------


def charge_late_fees(
    session: Session, loan: Loan, rows: Sequence[Instalment], now: datetime
) -> int:
    """Charge the late fee, once, on every instalment past the grace period."""
    today = now.date()
    charged = 0
    for row in unpaid(rows):
        if row.late_fee_charged_at is not None:
            continue
        if not is_late(days_past_due(row.due_on, today)):
            continue
        fee = late_fee(row.payment_minor, POLICY)
        weights = [ip.principal_minor + ip.interest_minor for ip in row.parts]
        if sum(weights) == 0:
            weights = [1] * len(row.parts)
        for ip, share in zip(row.parts, allocate(fee, weights), strict=True):
            ip.late_fee_minor = share
        row.late_fee_minor = fee
        row.late_fee_charged_at = now
        charged += 1
    return charged


def refresh_status(
    session: Session, loan: Loan, rows: Sequence[Instalment], now: datetime
) -> str | None:
    """Move the loan between active, late and defaulted by its days past due. Returns the
    new status when it changed."""
    if not loan.is_open:
        return None
    today = now.date()
    if not unpaid(rows) and loan.outstanding_minor == 0:
        loan.move_to(LoanStatus.REPAID)
        loan.closed_at = now
        open_ratings(session, loan, now=now)
        return LoanStatus.REPAID
    days = loan_days_past_due(rows, today)
    if is_default(days, POLICY):
        default_loan(session, loan, rows, now=now, days=days)
        return LoanStatus.DEFAULTED
    if is_late(days, POLICY) and loan.status == LoanStatus.ACTIVE:
        loan.move_to(LoanStatus.LATE)
        loan.ever_late = True
        return LoanStatus.LATE
    if not is_late(days, POLICY) and loan.status == LoanStatus.LATE:
        loan.move_to(LoanStatus.ACTIVE)
        cured = max(
            ((i.paid_at.date() - i.due_on).days for i in rows if i.paid_at and i.late_fee_minor),
            default=0,
        )
        record_repayment_event(
            session, loan=loan, kind=EventKind.CURED, occurred_at=now, days_late=cured
        )
        return LoanStatus.ACTIVE
    return None


def default_loan(
    session: Session, loan: Loan, rows: Sequence[Instalment], *, now: datetime, days: int
) -> None:
    """120 days past due: write the remaining principal off the lenders' books."""
    parts = parts_of(session, loan)
    _lock_for_payment(session, loan, parts)
    owed = accounts.owed_code(loan.borrower_id)
    by_lender: dict[int, int] = defaultdict(int)
    for part in parts:
        by_lender[part.lender_id] += part.outstanding_minor
    legs = [
        accounts.LenderLegs(
            lender_id=lender, wallet_minor=0, lent_minor=-amount, common={owed: amount}
        )
        for lender, amount in sorted(by_lender.items())
        if amount
    ]
    entry_id = None
    if legs:
        entries = accounts.post_with_lenders(
            session,
            lenders=legs,
            kind="loan_write_off",
            idempotency_key=f"lending:loan:{loan.id}:write_off",
            ref_type="loan",
            ref_id=loan.id,
            memo=f"Loan {loan.id} defaulted at {days} days past due: principal written off",
        )
        entry_id = entries[0].id
    for part in parts:
        if part.outstanding_minor:
            session.add(
                WriteOff(
                    loan_id=loan.id,
                    part_id=part.id,
                    lender_id=part.lender_id,
                    amount_minor=part.outstanding_minor,
                    entry_id=entry_id,
                    created_at=now,
                )
            )
            part.written_off_minor = part.outstanding_minor
            part.outstanding_minor = 0
    loan.written_off_minor = loan.outstanding_minor
    loan.outstanding_minor = 0
    loan.write_off_entry_id = entry_id
    loan.move_to(LoanStatus.DEFAULTED)
    loan.defaulted_at = now
    for row in unpaid(rows):
        row.status = InstalmentStatus.CANCELLED
    record_repayment_event(
        session, loan=loan, kind=EventKind.DEFAULT, occurred_at=now, days_late=days
    )
    open_ratings(session, loan, parts, now=now)
    session.flush()


def recover(
    session: Session, loan: Loan, budget_minor: int, *, key: str, now: datetime
) -> Repayment | None:
    """A payment after default, shared pro rata to what each part had written off."""
    remaining = loan.written_off_minor - loan.recovered_minor
    amount = min(budget_minor, remaining)
    if amount <= 0:
        return None
    parts = parts_of(session, loan)
    shares = split_by_remaining(amount, [p.written_off_minor - p.recovered_minor for p in parts])
    fees = servicing_fees(shares, POLICY)
    _lock_for_payment(session, loan, parts)
    repayment = Repayment(
        loan_id=loan.id,
        kind=RepaymentKind.RECOVERY,
        amount_minor=amount,
        recovery_minor=amount,
        servicing_fee_minor=sum(fees),
        idempotency_key=key,
        created_at=now,
    )
    got = [[0, 0, 0] for _ in parts]
    _post_to_lenders(session, loan, repayment, parts, got, fees, now=now, recovery=shares)
    for part, share in zip(parts, shares, strict=True):
        part.recovered_minor += share
    loan.recovered_minor += amount
    if loan.recovered_minor == loan.written_off_minor:
        loan.closed_at = now
        record_repayment_event(session, loan=loan, kind=EventKind.RECOVERED, occurred_at=now)
    return repayment


# --- early repayment -----------------------------------------------------------------------


@dataclass(frozen=True)
class EarlyQuote:
    principal_minor: int  # principal repaid now
    interest_minor: int  # interest for the days since the last due date, on that principal
    prepaid_parts: tuple[int, ...]
    interest_parts: tuple[int, ...]
    rest: sched.Schedule | None  # the schedule after it; None when the loan is repaid

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.interest_minor


def schedule_from_rows(loan: Loan, parts: Sequence[LoanPart], rows: Sequence[Instalment]):
    """The unpaid rest of the loan as a pure Schedule (parts at their outstanding)."""
    by_part = {p.id: n for n, p in enumerate(parts)}
    balance = sum(p.outstanding_minor for p in parts)
    out = []
    for row in rows:
        shares = [sched.PartPayment(0, 0)] * len(parts)
        for ip in row.parts:
            shares[by_part[ip.part_id]] = sched.PartPayment(ip.interest_minor, ip.principal_minor)
        balance -= row.principal_minor
        out.append(
            sched.Instalment(
                number=row.number,
                due_on=row.due_on,
                payment_minor=row.payment_minor,
                interest_minor=row.interest_minor,
                principal_minor=row.principal_minor,
                balance_minor=balance,
                parts=tuple(shares),
            )
        )
    return sched.Schedule(
        sched.Method(loan.method),
        loan.issued_on,
        tuple(sched.LoanPart(p.outstanding_minor, p.rate_bps) for p in parts),
        tuple(out),
    )


def quote_early(
    loan: Loan,
    parts: Sequence[LoanPart],
    rows: Sequence[Instalment],
    principal_minor: int | None,
    today: date,
) -> EarlyQuote:
    """What repaying `principal_minor` early (None: everything) costs today, and the
    schedule after it: same instalment, shorter term. Nothing may be due."""
    rest_rows = unpaid(rows)
    balance = sum(p.outstanding_minor for p in parts)
    amount = balance if principal_minor is None else principal_minor
    schedule = schedule_from_rows(loan, parts, rest_rows)
    early = sched.recompute_after_early_repayment(schedule, 0, amount)
    paid = [i for i in rows if i.status == InstalmentStatus.PAID]
    start = paid[-1].due_on if paid else loan.issued_on
    end = rest_rows[0].due_on
    interest = tuple(
        accrued_interest(prepaid, part.rate_bps, start, end, today)
        for prepaid, part in zip(early.prepaid_parts, parts, strict=True)
    )
    return EarlyQuote(
        principal_minor=amount,
        interest_minor=sum(interest),
        prepaid_parts=early.prepaid_parts,
        interest_parts=interest,
        rest=early.schedule if early.schedule.instalments else None,
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
        [prepaid, interest, 0]
        for prepaid, interest in zip(quote.prepaid_parts, quote.interest_parts, strict=True)
    ]
    fees = servicing_fees([g[0] + g[1] for g in got], POLICY)
    reinvest = _orders_to_reinvest(session, parts)
    _lock_for_payment(session, loan, parts)
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
    _post_to_lenders(session, loan, repayment, parts, got, fees, now=now)
    for part, g in zip(parts, got, strict=True):
        part.outstanding_minor -= g[0]
    loan.outstanding_minor -= quote.principal_minor
    _replace_schedule(session, parts, unpaid(rows), quote.rest)
    _reinvest(session, repayment, parts, reinvest)
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
