"""Servicing on the real database: scheduled collection, allocation, servicing fees,
arrears and late fees, default and write-off, recoveries, early repayment, reinvestment,
the limit ladder and the repayment events the trust engine reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.errors import InsufficientFunds, InvalidState, NotFound, ValidationFailed
from p2pbank.ledger.models import JournalEntry
from p2pbank.lending import due as lending_due
from p2pbank.lending import eligibility, ordering, services
from p2pbank.lending.models import (
    InstalmentStatus,
    Loan,
    LoanPart,
    LoanStatus,
    Repayment,
    RepaymentEvent,
    RepaymentShare,
    WriteOff,
)
from p2pbank.lending.read import lender as lender_read
from p2pbank.lending.read import loans
from p2pbank.money import percent_of
from tests.support.database import row_counts
from tests.support.lending import at, borrower, funded_loan, instalments, lender, listing, order
from tests.support.money import account, assert_books_balance, deposit, spend, wallet


@pytest.fixture(autouse=True)
def _books_balance_after_each_test(session):
    yield
    assert_books_balance(session)


def run_on(session, day: date) -> dict:
    return lending_due.run_due_lending(session, at(day))


def events(session, loan) -> list[tuple[str, int]]:
    found = session.scalars(
        select(RepaymentEvent).where(RepaymentEvent.loan_id == loan.id).order_by(RepaymentEvent.id)
    )
    return [(e.kind, e.days_late) for e in found]


# --- paying on time ------------------------------------------------------------------------


def test_the_job_collects_on_the_due_date_and_shares_it_to_the_cent(session, make_user, frozen_now):
    bo, lenders, loan = funded_loan(session, make_user, money=20_000)
    first = instalments(session, loan)[0]
    assert first.due_on == date(2026, 12, 2)
    run_on(session, date(2026, 12, 1))
    assert instalments(session, loan)[0].status == InstalmentStatus.SCHEDULED
    done = run_on(session, date(2026, 12, 2))
    assert done["repayments"] == 1
    first = instalments(session, loan)[0]
    assert first.status == InstalmentStatus.PAID
    repayment = session.scalar(select(Repayment).where(Repayment.loan_id == loan.id))
    assert repayment.amount_minor == first.payment_minor
    shares = session.scalars(
        select(RepaymentShare).where(RepaymentShare.repayment_id == repayment.id)
    ).all()
    assert sum(s.gross_minor for s in shares) == first.payment_minor
    assert sum(s.servicing_fee_minor for s in shares) == percent_of(first.payment_minor, 100)
    assert sum(s.net_minor for s in shares) + repayment.servicing_fee_minor == first.payment_minor
    for share, who in zip(sorted(shares, key=lambda s: s.lender_id), lenders, strict=True):
        assert wallet(session, who.id)[0] == 1_000_000 - share_principal(session, who) + (
            share.net_minor
        )
    assert events(session, loan) == [("on_time", 0)]


def share_principal(session, who) -> int:
    return session.scalar(select(LoanPart.principal_minor).where(LoanPart.lender_id == who.id))


def test_a_loan_repaid_on_time_closes_the_books_and_raises_the_limit(
    session, make_user, frozen_now
):
    bo, lenders, loan = funded_loan(session, make_user, money=20_000)
    schedule = instalments(session, loan)
    for row in schedule:
        run_on(session, row.due_on)
    session.refresh(loan)
    assert loan.status == LoanStatus.REPAID
    assert loan.outstanding_minor == 0
    for who in lenders:
        assert account(session, f"lending:lent:{who.id}") == 0
    assert account(session, f"lending:owed:{bo.id}") == 0
    total_paid = sum(r.payment_minor for r in schedule)
    assert wallet(session, bo.id)[0] == 20_000 + 60_000 - 2_400 - total_paid
    assert [kind for kind, _ in events(session, loan)] == ["on_time"] * 12
    limit = eligibility.borrowing_limit(session, bo.id)
    assert limit.amount_minor == 300_000
    assert "1 loan(s) repaid on time" in limit.reason
    grade = eligibility.grade_borrower(session, bo.id, clock.now())
    assert grade.grade in "AB"


def test_paying_now_pays_the_next_instalment_before_it_is_due(session, make_user, frozen_now):
    bo, lenders, loan = funded_loan(session, make_user, money=10_000)
    upcoming = instalments(session, loan)[0]
    with pytest.raises(ValidationFailed, match="Nothing is due yet"):
        services.pay_now(session, bo.id, loan.id, amount_minor=100)
    repayment = services.pay_now(session, bo.id, loan.id, idempotency_key="pay-1")
    again = services.pay_now(session, bo.id, loan.id, idempotency_key="pay-1")
    assert repayment.id == again.id
    assert repayment.amount_minor == upcoming.payment_minor
    assert instalments(session, loan)[0].status == InstalmentStatus.PAID
    assert events(session, loan) == [("on_time", 0)]
    # The job finds nothing to collect on that due date.
    assert run_on(session, upcoming.due_on)["repayments"] == 0


def test_paying_now_is_refused_without_money_or_for_someone_else(session, make_user, frozen_now):
    bo, lenders, loan = funded_loan(session, make_user)
    # Bo spent the loan: his wallet is below an instalment after moving money out.
    spend(session, bo.id, 57_000)
    before = row_counts(session)
    with pytest.raises(InsufficientFunds, match="is needed"):
        services.pay_now(session, bo.id, loan.id)
    with pytest.raises(NotFound):
        services.pay_now(session, lenders[0].id, loan.id)
    assert row_counts(session) == before


# --- arrears -------------------------------------------------------------------------------


def test_late_after_the_grace_period_pays_the_fee_first_and_catches_up(
    session, make_user, frozen_now
):
    bo, lenders, loan = funded_loan(session, make_user)
    spend(session, bo.id, 57_600)
    due_on = instalments(session, loan)[0].due_on
    run_on(session, due_on)
    run_on(session, due_on + timedelta(days=15))
    session.refresh(loan)
    assert loan.status == LoanStatus.ACTIVE  # 15 days: still the grace period
    assert loans.loan_detail(session, bo, loan.id).arrears_bucket == "1-15"
    run_on(session, due_on + timedelta(days=16))
    session.refresh(loan)
    assert loan.status == LoanStatus.LATE
    first = instalments(session, loan)[0]
    assert first.late_fee_minor == max(1_500, percent_of(first.payment_minor, 500))
    run_on(session, due_on + timedelta(days=17))
    assert instalments(session, loan)[0].late_fee_minor == first.late_fee_minor  # once only
    view = loans.loan_detail(session, bo, loan.id)
    assert (view.days_past_due, view.arrears_bucket) == (17, "16-30")
    assert view.rows[0].state == "late"

    # A partial payment goes to the late fee first, then interest, then principal.
    deposit(session, bo.id, 1_600)
    services.pay_now(session, bo.id, loan.id, amount_minor=1_600)
    first = instalments(session, loan)[0]
    assert first.late_fee_paid_minor == 1_500
    assert first.interest_paid_minor == 100
    assert first.principal_paid_minor == 0
    # The late fee goes to the lenders in full, split by their parts.
    fee_shares = session.scalars(select(RepaymentShare)).all()
    assert sum(s.late_fee_minor for s in fee_shares) == 1_500

    deposit(session, bo.id, first.owed_minor)
    services.pay_now(session, bo.id, loan.id)
    session.refresh(loan)
    assert loan.status == LoanStatus.ACTIVE
    assert instalments(session, loan)[0].status == InstalmentStatus.PAID
    kinds = [kind for kind, _ in events(session, loan)]
    assert kinds == ["late", "cured"]
    # A loan that was late resets the ladder at its end; meanwhile the grade is capped.
    assert eligibility.grade_borrower(session, bo.id, clock.now()).grade in "BCD"


def test_default_at_120_days_writes_off_the_lenders_books_and_recoveries_are_shared(
    session, make_user, frozen_now
):
    bo, lenders, loan = funded_loan(session, make_user)
    spend(session, bo.id, 57_600)
    due_on = instalments(session, loan)[0].due_on
    run_on(session, due_on + timedelta(days=119))
    session.refresh(loan)
    assert loan.status == LoanStatus.LATE
    assert loans.loan_detail(session, bo, loan.id).arrears_bucket == "61-120"
    done = run_on(session, due_on + timedelta(days=120))
    assert done["defaults"] == 1
    session.refresh(loan)
    assert loan.status == LoanStatus.DEFAULTED
    assert loan.written_off_minor == 60_000 and loan.outstanding_minor == 0
    entry = session.scalar(select(JournalEntry).where(JournalEntry.kind == "loan_write_off"))
    assert entry is not None and loan.write_off_entry_id == entry.id
    for who, amount in zip(lenders, (20_000, 25_000, 15_000), strict=True):
        assert account(session, f"lending:lent:{who.id}") == 0
        off = session.scalar(select(WriteOff).where(WriteOff.lender_id == who.id))
        assert off.amount_minor == amount
    assert account(session, f"lending:owed:{bo.id}") == 0
    assert [k for k, _ in events(session, loan)][-1] == "default"
    assert eligibility.grade_borrower(session, bo.id, clock.now()).grade == "E"
    dash = lender_read.lender_dashboard(session, lenders[0].id)
    assert dash.written_off_minor == 20_000
    assert dash.returns.net_annualized_return < 0

    # Recoveries: the job collects what arrives, shared pro rata to what was written off.
    deposit(session, bo.id, 6_000)
    assert run_on(session, due_on + timedelta(days=121))["recoveries"] == 1
    recovered = session.scalars(select(RepaymentShare).order_by(RepaymentShare.lender_id)).all()
    assert [s.recovery_minor for s in recovered] == [2_000, 2_500, 1_500]
    assert sum(s.servicing_fee_minor for s in recovered) == 60
    deposit(session, bo.id, 54_000)
    services.pay_now(session, bo.id, loan.id)
    session.refresh(loan)
    assert loan.recovered_minor == 60_000
    assert [k for k, _ in events(session, loan)][-1] == "recovered"
    with pytest.raises(InvalidState):
        services.pay_now(session, bo.id, loan.id)


# --- early repayment -----------------------------------------------------------------------


def test_partial_early_repayment_keeps_the_instalment_and_shortens_the_term(
    session, make_user, frozen_now
):
    bo, lenders, loan = funded_loan(session, make_user, money=30_000)
    schedule = instalments(session, loan)
    run_on(session, schedule[0].due_on)
    at(schedule[0].due_on + timedelta(days=10))
    quote = loans.early_quote(session, bo.id, loan.id, 20_000)
    assert quote.principal_minor == 20_000
    assert 0 < quote.interest_minor < 20_000 * 14 // 1200  # days elapsed only
    repayment = services.repay_early(session, bo.id, loan.id, principal_minor=20_000)
    assert repayment.amount_minor == quote.total_minor
    after = [r for r in instalments(session, loan) if r.status == InstalmentStatus.SCHEDULED]
    assert len(after) < 11
    assert after[0].payment_minor == schedule[1].payment_minor  # same instalment
    session.refresh(loan)
    assert loan.outstanding_minor == sum(r.principal_minor for r in after)
    for row in after:
        assert sum(p.principal_minor + p.interest_minor for p in row.parts) == row.payment_minor


def test_full_early_repayment_ends_the_loan(session, make_user, frozen_now):
    bo, lenders, loan = funded_loan(session, make_user, money=10_000)
    at(date(2026, 11, 20))
    quote = loans.early_quote(session, bo.id, loan.id)
    services.repay_early(session, bo.id, loan.id, idempotency_key="all")
    session.refresh(loan)
    assert loan.status == LoanStatus.REPAID
    assert all(r.status == InstalmentStatus.CANCELLED for r in instalments(session, loan))
    assert wallet(session, bo.id)[0] == 10_000 + 57_600 - quote.total_minor
    for who in lenders:
        assert account(session, f"lending:lent:{who.id}") == 0
    assert services.repay_early(session, bo.id, loan.id, idempotency_key="all").loan_id == loan.id


def test_early_repayment_needs_what_is_due_paid_first(session, make_user, frozen_now):
    bo, lenders, loan = funded_loan(session, make_user, money=0)
    spend(session, bo.id, 57_600)
    run_on(session, instalments(session, loan)[0].due_on + timedelta(days=1))
    with pytest.raises(InvalidState, match="Pay what is due first"):
        services.repay_early(session, bo.id, loan.id, principal_minor=1_000)
    with pytest.raises(ValidationFailed, match="is due"):
        services.pay_now(session, bo.id, loan.id, amount_minor=999_999)


# --- reinvesting ---------------------------------------------------------------------------


def test_repayments_flow_back_into_an_order_that_reinvests(session, make_user, frozen_now):
    bo = borrower(make_user, session, money=10_000)
    request = listing(session, bo, amount=50_000, rate=1_200)
    lena = lender(make_user, session)
    placed = order(
        session, lena, 60_000, {"D": 1_000}, max_per_borrower_minor=50_000, reinvest=True
    )
    assert placed.remaining_minor == 10_000
    loan = session.scalar(select(Loan).where(Loan.request_id == request.id))
    first = instalments(session, loan)[0]
    run_on(session, first.due_on)
    share = session.scalar(select(RepaymentShare))
    session.refresh(placed)
    assert placed.remaining_minor == 10_000 + share.net_minor
    assert placed.amount_minor == 60_000 + share.net_minor
    assert wallet(session, lena.id)[1] == placed.remaining_minor  # held for the order
    ordering.set_reinvest(session, lena.id, placed.id, False)
    run_on(session, instalments(session, loan)[1].due_on)
    session.refresh(placed)
    assert placed.remaining_minor == 10_000 + share.net_minor
