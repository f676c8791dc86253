"""The one entry point for due work, and `flask tick [--until DATE]` moving time forward."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from p2pbank import clock
from p2pbank.jobs import run_due_work
from p2pbank.lending import ordering
from p2pbank.lending.models import Instalment, InstalmentStatus, Loan, RequestStatus
from tests.support.lending import borrower, lender, listing
from tests.support.money import assert_books_balance, wallet


def test_run_due_work_runs_lending_and_expires_ledger_holds(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo)
    lena = lender(make_user, session)
    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=10_000, rate_bps=900)
    done = run_due_work(session, frozen_now + timedelta(days=14))
    assert done["lending.listings_expired"] == 1
    assert "ledger.holds_expired" in done
    session.refresh(request)
    assert request.status == RequestStatus.EXPIRED
    assert wallet(session, lena.id) == (1_000_000, 0, 1_000_000)
    assert_books_balance(session)


def test_flask_tick_until_a_date_moves_the_clock_day_by_day(app, session, make_user, frozen_now):
    bo = borrower(make_user, session, money=20_000)
    request = listing(session, bo, amount=60_000)
    lena = lender(make_user, session)
    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=60_000, rate_bps=900)
    loan = session.scalar(select(Loan))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tick", "--until", "2027-01-02"])
    assert result.exit_code == 0, result.output
    assert "ran 62 day(s) up to 2027-01-02" in result.output
    assert "lending.repayments 2" in result.output
    paid = session.scalars(
        select(Instalment.number).where(
            Instalment.loan_id == loan.id, Instalment.status == InstalmentStatus.PAID
        )
    ).all()
    assert sorted(paid) == [1, 2]
    assert clock.now() == frozen_now  # the command leaves the clock as it found it
    assert_books_balance(session)


def test_flask_tick_refuses_a_date_in_the_past_and_runs_once_without_one(app, frozen_now):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["tick", "--until", "2026-01-01"])
    assert refused.exit_code != 0 and "is before today" in refused.output
    once = runner.invoke(args=["tick"])
    assert once.exit_code == 0 and "ran 1 day(s) up to 2026-11-02" in once.output


def test_an_expired_listing_is_swept_by_tick(app, session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo)
    clock.set_now(frozen_now + timedelta(days=15))
    result = app.test_cli_runner().invoke(args=["tick"])
    assert "lending.listings_expired 1" in result.output
    session.refresh(request)
    assert request.status == RequestStatus.EXPIRED
