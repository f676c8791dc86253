"""A lender's NAR and XIRR counting the parts they bought and sold; reads only.

Each part's owners follow one another: the lender it was issued to from the loan's issue
date, then each buyer from the moment of their purchase. A lender's holdings are the
stretches they owned; repayment shares and write-offs belong to the stretch in which
they happened (they carry the owner of the day). The figures are in returns.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.lending.models import Loan, LoanPart, RepaymentShare, WriteOff
from p2pbank.lending.read import lender as lending_queries
from p2pbank.lending.returns import Holding, Receipt, returns_of
from p2pbank.resale.models import ResaleSale


@dataclass(frozen=True)
class Stretch:
    owner_id: int
    start: datetime | None  # None: from the loan's issue
    end: datetime | None  # None: still owned
    paid_minor: int
    principal_minor: int
    proceeds_minor: int = 0


def stretches(part: LoanPart, sales: list[ResaleSale]) -> list[Stretch]:
    """Who owned the part when, and on what terms, oldest first."""
    ordered = sorted(sales, key=lambda s: (s.sold_at, s.id))
    owner = ordered[0].seller_id if ordered else part.lender_id
    start, paid, principal = None, part.principal_minor, part.principal_minor
    found = []
    for sale in ordered:
        found.append(Stretch(owner, start, sale.sold_at, paid, principal, sale.seller_gets_minor))
        owner, start = sale.buyer_id, sale.sold_at
        paid, principal = sale.total_minor, sale.outstanding_minor
    found.append(Stretch(owner, start, None, paid, principal))
    return found


def _inside(moment: datetime, stretch: Stretch) -> bool:
    return (stretch.start is None or moment >= stretch.start) and (
        stretch.end is None or moment < stretch.end
    )


def _parts_and_sales(
    session: Session, lender_id: int
) -> tuple[list[LoanPart], dict[int, list[ResaleSale]]]:
    traded = select(ResaleSale.part_id).where(
        or_(ResaleSale.seller_id == lender_id, ResaleSale.buyer_id == lender_id)
    )
    parts = list(
        session.scalars(
            select(LoanPart).where(or_(LoanPart.lender_id == lender_id, LoanPart.id.in_(traded)))
        )
    )
    sales: dict[int, list[ResaleSale]] = defaultdict(list)
    ids = [p.id for p in parts]
    if ids:
        for sale in session.scalars(select(ResaleSale).where(ResaleSale.part_id.in_(ids))):
            sales[sale.part_id].append(sale)
    return parts, sales


def holdings_of(session: Session, lender_id: int) -> list[Holding]:
    parts, sales = _parts_and_sales(session, lender_id)
    if not parts:
        return []
    loan_ids = {p.loan_id for p in parts}
    issued = {
        loan_id: day
        for loan_id, day in session.execute(
            select(Loan.id, Loan.issued_on).where(Loan.id.in_(loan_ids))
        )
    }
    shares: dict[int, list] = defaultdict(list)
    for share in session.execute(  # columns, not entities: a lender has thousands of shares
        select(
            RepaymentShare.part_id,
            RepaymentShare.created_at,
            RepaymentShare.principal_minor,
            RepaymentShare.interest_minor,
            RepaymentShare.late_fee_minor,
            RepaymentShare.recovery_minor,
            RepaymentShare.servicing_fee_minor,
        ).where(RepaymentShare.lender_id == lender_id)
    ):
        shares[share.part_id].append(share)
    offs = {
        w.part_id: w
        for w in session.scalars(select(WriteOff).where(WriteOff.lender_id == lender_id))
    }
    found = []
    for part in parts:
        for stretch in stretches(part, sales[part.id]):
            if stretch.owner_id != lender_id:
                continue
            off = offs.get(part.id)
            found.append(
                Holding(
                    started_on=stretch.start.date() if stretch.start else issued[part.loan_id],
                    paid_minor=stretch.paid_minor,
                    principal_minor=stretch.principal_minor,
                    receipts=tuple(
                        Receipt(
                            on=s.created_at.date(),
                            principal_minor=s.principal_minor,
                            interest_minor=s.interest_minor,
                            late_fee_minor=s.late_fee_minor,
                            recovery_minor=s.recovery_minor,
                            service_fee_minor=s.servicing_fee_minor,
                        )
                        for s in sorted(shares[part.id], key=lambda s: s.created_at)
                        if _inside(s.created_at, stretch)
                    ),
                    written_off=(off.created_at.date(), off.amount_minor)
                    if off is not None and _inside(off.created_at, stretch)
                    else None,
                    sold_on=stretch.end.date() if stretch.end else None,
                    proceeds_minor=stretch.proceeds_minor,
                    outstanding_now_minor=part.outstanding_minor if stretch.end is None else 0,
                )
            )
    return found


def lender_returns(session: Session, lender_id: int) -> tuple[float | None, float | None]:
    """(NAR, XIRR) over everything the lender held, sales and purchases included."""
    return returns_of(holdings_of(session, lender_id), clock.now().date())


def lender_summary(session: Session, lender_id: int) -> lending_queries.LenderSummary:
    """The dashboard's lending panel: lent out, income and the returns over everything the
    lender held, without building the whole lending dashboard on every visit."""
    lent, income = lending_queries.lent_and_income(session, lender_id)
    nar, irr = lender_returns(session, lender_id)
    returns = lending_queries.Returns(nar, irr, [*lending_queries.RETURNS_EXPLANATION, SALES])
    return lending_queries.LenderSummary(lent, income, returns)


def lender_dashboard(session: Session, lender_id: int) -> lending_queries.LenderDashboard:
    """The lending dashboard with NAR and XIRR over everything the lender held, bought and
    sold (the lending figures alone see only the parts held today, from their issue)."""
    nar, irr = lender_returns(session, lender_id)
    explanation = [*lending_queries.RETURNS_EXPLANATION, SALES]
    shown = lending_queries.Returns(nar, irr, explanation)
    return lending_queries.lender_dashboard(session, lender_id, returns_shown=shown)


SALES = (
    "Parts you sold count until the sale, with what the sale brought after the fee; parts "
    "you bought count from the purchase, with what you paid (price and accrued interest)."
)
