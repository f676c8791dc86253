"""The lender's dashboard: wallet, orders, commitments, loan parts with what each has paid
and will pay, and the two return figures with their explanation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from p2pbank import clock
from p2pbank.ledger import queries as ledger_queries
from p2pbank.lending import accounts, returns, rules
from p2pbank.lending import repayment as repay
from p2pbank.lending.models import (
    Commitment,
    CommitmentStatus,
    Instalment,
    Loan,
    LoanPart,
    Repayment,
    RepaymentShare,
    WriteOff,
)
from p2pbank.lending.read.orders import OrderView, my_orders
from p2pbank.lending.read.views import (
    CommitmentView,
    account_exists,
    commitment_view,
    wallet_balances,
)


@dataclass(frozen=True)
class PartView:
    id: int
    loan_id: int
    grade: str
    term_months: int
    rate_bps: int
    principal_minor: int
    outstanding_minor: int
    received_principal_minor: int
    received_interest_minor: int
    received_late_fees_minor: int
    received_recoveries_minor: int
    servicing_fees_minor: int
    written_off_minor: int
    loan_status: str
    days_past_due: int
    arrears_bucket: str
    next_due_on: date | None
    next_amount_minor: int
    issued_at: datetime


@dataclass(frozen=True)
class ExpectedPayment:
    due_on: date
    amount_minor: int


@dataclass(frozen=True)
class Returns:
    net_annualized_return: float | None
    xirr: float | None
    explanation: list[str]


@dataclass(frozen=True)
class LenderDashboard:
    available_minor: int
    held_minor: int
    lent_out_minor: int
    committed_minor: int
    in_orders_minor: int
    income_minor: int  # interest + late fees + recoveries - servicing fees
    written_off_minor: int
    orders: list[OrderView]
    commitments: list[CommitmentView]
    parts: list[PartView]
    expected: list[ExpectedPayment]
    returns: Returns
    currency: str = "EUR"


RETURNS_EXPLANATION = [
    "Net annualized return (the LendingClub way): each month, the interest and late fees "
    "your loan parts earned, minus servicing fees and principal written off, plus "
    "recoveries, divided by the principal outstanding at the start of that month; the "
    "weighted monthly average is compounded over twelve months. It ignores cash waiting "
    "in your wallet and when in the month money moved.",
    "XIRR: the yearly rate that makes all your actual cash flows -- money lent out, every "
    "payment received after fees, and the principal still outstanding valued today -- add "
    "up to zero. It counts exactly when money moved.",
    "The two differ when loans are young, repaid early, late or written off; both are "
    "history, not a promise.",
]


def _returns(
    parts: Sequence[LoanPart],
    loans: dict[int, Loan],
    shares: Sequence[RepaymentShare],
    write_offs: Sequence[WriteOff],
    today: date,
) -> Returns:
    """NAR and XIRR of the parts held today, each from its loan's issue."""
    by_part: dict[int, list[RepaymentShare]] = defaultdict(list)
    for s in shares:
        by_part[s.part_id].append(s)
    written: dict[int, WriteOff] = {w.part_id: w for w in write_offs}
    holdings = []
    for part in parts:
        off = written.get(part.id)
        holdings.append(
            returns.Holding(
                started_on=loans[part.loan_id].issued_on,
                paid_minor=part.principal_minor,
                principal_minor=part.principal_minor,
                receipts=tuple(
                    returns.Receipt(
                        s.created_at.date(),
                        principal_minor=s.principal_minor,
                        interest_minor=s.interest_minor,
                        late_fee_minor=s.late_fee_minor,
                        recovery_minor=s.recovery_minor,
                        service_fee_minor=s.servicing_fee_minor,
                    )
                    for s in sorted(by_part[part.id], key=lambda s: s.created_at)
                ),
                written_off=(off.created_at.date(), off.amount_minor) if off else None,
                outstanding_now_minor=part.outstanding_minor,
            )
        )
    nar, irr = returns.returns_of(holdings, today)
    return Returns(nar, irr, RETURNS_EXPLANATION)


def _part_view(
    part: LoanPart,
    loan: Loan,
    rows: Sequence[Instalment],
    got: Sequence[RepaymentShare],
    today: date,
    expected: dict[date, int],
) -> PartView:
    """One loan part on the dashboard; adds what it will still pay to `expected` by date."""
    days = repay.loan_days_past_due(rows, today) if loan.is_open else 0
    next_due, next_amount = None, 0
    if loan.is_open:
        for row in repay.unpaid(rows):
            for ip in row.parts:
                if ip.part_id == part.id:
                    owed = (
                        ip.principal_minor
                        - ip.principal_paid_minor
                        + ip.interest_minor
                        - ip.interest_paid_minor
                        + ip.late_fee_minor
                        - ip.late_fee_paid_minor
                    )
                    if next_due is None:
                        next_due, next_amount = row.due_on, owed
                    expected[row.due_on] += owed
    return PartView(
        id=part.id,
        loan_id=loan.id,
        grade=loan.grade,
        term_months=loan.term_months,
        rate_bps=part.rate_bps,
        principal_minor=part.principal_minor,
        outstanding_minor=part.outstanding_minor,
        received_principal_minor=sum(s.principal_minor for s in got),
        received_interest_minor=sum(s.interest_minor for s in got),
        received_late_fees_minor=sum(s.late_fee_minor for s in got),
        received_recoveries_minor=sum(s.recovery_minor for s in got),
        servicing_fees_minor=sum(s.servicing_fee_minor for s in got),
        written_off_minor=part.written_off_minor,
        loan_status=loan.status,
        days_past_due=days,
        arrears_bucket=rules.arrears_bucket(days),
        next_due_on=next_due,
        next_amount_minor=next_amount,
        issued_at=loan.issued_at,
    )


def _loans_of(
    session: Session, loan_ids: set[int]
) -> tuple[dict[int, Loan], dict[int, list[Instalment]]]:
    """The loans and their instalments, oldest first: two queries (not a lazy load per
    loan), and no other lender's parts."""
    rows_by_loan: dict[int, list[Instalment]] = defaultdict(list)
    if not loan_ids:
        return {}, rows_by_loan
    loans = session.scalars(
        select(Loan)
        .where(Loan.id.in_(loan_ids))
        .options(lazyload(Loan.parts), lazyload(Loan.instalments))
    ).all()
    for row in session.scalars(
        select(Instalment).where(Instalment.loan_id.in_(loan_ids)).order_by(Instalment.number)
    ):
        rows_by_loan[row.loan_id].append(row)
    return {loan.id: loan for loan in loans}, rows_by_loan


def lender_dashboard(
    session: Session, lender_id: int, returns_shown: Returns | None = None
) -> LenderDashboard:
    """Everything the lending dashboard shows. `returns_shown` replaces the returns of the
    parts held today when the caller measured them over more (sales and purchases)."""
    today = clock.now().date()
    _posted, held, available = wallet_balances(session, lender_id)
    lent_code = accounts.lent_code(lender_id)
    lent_out = (
        ledger_queries.balances(session, lent_code).posted
        if account_exists(session, lent_code)
        else 0
    )
    orders = my_orders(session, lender_id)
    commitments = session.scalars(
        select(Commitment)
        .where(Commitment.lender_id == lender_id, Commitment.status == CommitmentStatus.HELD)
        .order_by(Commitment.id.desc())
    ).all()
    parts = session.scalars(
        select(LoanPart).where(LoanPart.lender_id == lender_id).order_by(LoanPart.id.desc())
    ).all()
    loans, rows_by_loan = _loans_of(session, {p.loan_id for p in parts})
    shares = session.scalars(
        select(RepaymentShare).where(RepaymentShare.lender_id == lender_id)
    ).all()
    write_offs = session.scalars(select(WriteOff).where(WriteOff.lender_id == lender_id)).all()
    by_part: dict[int, list[RepaymentShare]] = defaultdict(list)
    for s in shares:
        by_part[s.part_id].append(s)
    views = []
    expected: dict[date, int] = defaultdict(int)
    for part in parts:
        loan = loans[part.loan_id]
        views.append(
            _part_view(part, loan, rows_by_loan[loan.id], by_part[part.id], today, expected)
        )
    income = sum(
        s.interest_minor + s.late_fee_minor + s.recovery_minor - s.servicing_fee_minor
        for s in shares
    )
    return LenderDashboard(
        available_minor=available,
        held_minor=held,
        lent_out_minor=lent_out,
        committed_minor=sum(c.amount_minor for c in commitments),
        in_orders_minor=sum(o.remaining_minor for o in orders if o.status != "cancelled"),
        income_minor=income,
        written_off_minor=sum(p.written_off_minor for p in parts),
        orders=orders,
        commitments=[commitment_view(c) for c in commitments],
        parts=views,
        expected=[ExpectedPayment(d, a) for d, a in sorted(expected.items())[:6]],
        returns=returns_shown or _returns(parts, loans, shares, write_offs, today),
    )


@dataclass(frozen=True)
class LenderSummary:
    """What the dashboard's lending panel shows: a few sums, not the whole dashboard."""

    lent_out_minor: int
    income_minor: int
    returns: Returns


def lent_and_income(session: Session, lender_id: int) -> tuple[int, int]:
    """Principal lent out now (the ledger's lent account) and income to date (interest,
    late fees and recoveries less servicing fees), in two statements."""
    lent_code = accounts.lent_code(lender_id)
    lent = (
        ledger_queries.balances(session, lent_code).posted
        if account_exists(session, lent_code)
        else 0
    )
    income = session.scalar(
        select(
            func.coalesce(
                func.sum(
                    RepaymentShare.interest_minor
                    + RepaymentShare.late_fee_minor
                    + RepaymentShare.recovery_minor
                    - RepaymentShare.servicing_fee_minor
                ),
                0,
            )
        ).where(RepaymentShare.lender_id == lender_id)
    )
    return lent, int(income or 0)


def lender_parts(session: Session, lender_id: int) -> list[PartView]:
    return lender_dashboard(session, lender_id).parts


def income_by_month(session: Session, lender_id: int) -> list[tuple[str, int]]:
    """Interest and late fees a lender received, less servicing fees, per calendar month
    (YYYY-MM, oldest first): the lender dashboard's income chart."""
    rows = session.execute(
        select(
            Repayment.created_at,
            RepaymentShare.interest_minor
            + RepaymentShare.late_fee_minor
            - RepaymentShare.servicing_fee_minor,
        )
        .join(Repayment, Repayment.id == RepaymentShare.repayment_id)
        .where(RepaymentShare.lender_id == lender_id)
    ).all()
    months: dict[str, int] = defaultdict(int)
    for moment, minor in rows:
        months[moment.strftime("%Y-%m")] += int(minor)
    return sorted(months.items())
