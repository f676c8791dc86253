"""What lending tells people, in one place: each function adds notifications to the
command's transaction (flush-only) for one lending event. The sentences live in
p2pbank.notifications.kinds; here are only who is told, with which parameters, and
which page the notification opens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from p2pbank.lending.models import Instalment, LenderOrder, Loan, LoanRequest
from p2pbank.notifications.services import notify, notify_each

TITLE_CHARS = 60


def _title(request: LoanRequest) -> str:
    text = " ".join(request.purpose_text.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def _loan_link(loan_id: int) -> str:
    return f"/lending/loans/{loan_id}"


def loan_funded(session: Session, request: LoanRequest, loan: Loan) -> None:
    params = {
        "title": _title(request),
        "amount_minor": loan.principal_minor,
        "currency": loan.currency,
    }
    notify(session, loan.borrower_id, "loan_funded", params, _loan_link(loan.id))


def partly_funded(session: Session, request: LoanRequest) -> None:
    params = {"title": _title(request), "percent": request.funded_bps // 100}
    notify(session, request.borrower_id, "loan_partly_funded", params, "/lending/borrow")


def listing_expired(session: Session, request: LoanRequest) -> None:
    notify(
        session,
        request.borrower_id,
        "listing_expired",
        {"title": _title(request)},
        "/lending/borrow",
    )


def order_filled(session: Session, order: LenderOrder) -> None:
    params = {"order_id": order.id, "amount_minor": order.amount_minor, "currency": order.currency}
    notify(session, order.lender_id, "order_filled", params, f"/lending/orders/{order.id}")


def instalment_due_soon(session: Session, loan: Loan, row: Instalment, on: date) -> bool:
    """Once per instalment (the reminder's key), however often the scheduled work runs."""
    params = {
        "number": row.number,
        "loan_id": loan.id,
        "amount_minor": row.owed_minor,
        "currency": loan.currency,
        "due_on": on.isoformat(),
    }
    note = notify(
        session,
        loan.borrower_id,
        "instalment_due_soon",
        params,
        _loan_link(loan.id),
        key=f"instalment-due:{row.id}",
    )
    return note is not None


def instalment_paid(session: Session, loan: Loan, row: Instalment) -> None:
    params = {"number": row.number, "loan_id": loan.id}
    notify(session, loan.borrower_id, "instalment_paid", params, _loan_link(loan.id))


def repayment_received(session: Session, loan: Loan, lender_id: int, net_minor: int) -> None:
    params = {"amount_minor": net_minor, "currency": loan.currency, "loan_id": loan.id}
    notify(session, lender_id, "repayment_received", params, "/lending/lend")


def loan_late(
    session: Session, loan: Loan, row: Instalment | None, days: int, lenders: Iterable[int]
) -> None:
    """The borrower hears which instalment is late; the lenders that their loan is."""
    if row is not None:
        params = {"number": row.number, "loan_id": loan.id, "days": days}
        notify(session, loan.borrower_id, "instalment_late", params, _loan_link(loan.id))
    notify_each(
        session, lenders, "lent_loan_late", {"loan_id": loan.id, "days": days}, "/lending/lend"
    )


def loan_defaulted(session: Session, loan: Loan, lenders: Iterable[int]) -> None:
    notify(session, loan.borrower_id, "loan_defaulted", {"loan_id": loan.id}, _loan_link(loan.id))
    notify_each(session, lenders, "lent_loan_defaulted", {"loan_id": loan.id}, "/lending/lend")
