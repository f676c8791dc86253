"""Lending tells people what happened, in the same transaction as the event: the real
commands and the scheduled work run, and the notification rows are read back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from p2pbank.errors import DomainError
from p2pbank.jobs import run_due_work
from p2pbank.lending import due as lending_due
from p2pbank.lending import ordering, reminders, services
from p2pbank.notifications.models import Notification
from tests.support.lending import at, borrower, funded_loan, instalments, lender, listing, order
from tests.support.money import spend


def told(session, user_id: int, kind: str | None = None) -> list[Notification]:
    session.expire_all()
    stmt = select(Notification).where(Notification.user_id == user_id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(session.scalars(stmt.order_by(Notification.id)))


def test_a_loan_funded_by_hand_tells_the_borrower(session, make_user, frozen_now):
    bo, _lenders, loan = funded_loan(session, make_user)
    (note,) = told(session, bo.id, "loan_funded")
    assert note.params == {
        "title": "A used car to get to work",
        "amount_minor": 60_000,
        "currency": "EUR",
    }
    assert note.link == f"/lending/loans/{loan.id}"


def test_an_order_partly_funds_then_fills(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    listing(session, bo, amount=100_000)
    lena = lender(make_user, session)
    placed = order(session, lena, 40_000, {"D": 800}, max_per_borrower_minor=40_000)
    (partly,) = told(session, bo.id, "loan_partly_funded")
    assert partly.params["percent"] == 40
    (filled,) = told(session, lena.id, "order_filled")
    assert filled.params == {"order_id": placed.id, "amount_minor": 40_000, "currency": "EUR"}


def test_an_expired_listing_tells_the_borrower(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    listing(session, bo)
    run_due_work(session, frozen_now + timedelta(days=14))
    (note,) = told(session, bo.id, "listing_expired")
    assert note.params["title"] == "A used car to get to work"


def test_a_repayment_tells_the_borrower_paid_and_each_lender_their_income(
    session, make_user, frozen_now
):
    bo, lenders, loan = funded_loan(session, make_user, money=20_000)
    due_on = instalments(session, loan)[0].due_on
    lending_due.run_due_lending(session, at(due_on))
    (paid,) = told(session, bo.id, "instalment_paid")
    assert paid.params == {"number": 1, "loan_id": loan.id}
    incomes = [told(session, who.id, "repayment_received") for who in lenders]
    assert all(len(got) == 1 for got in incomes)
    first = instalments(session, loan)[0]
    net = sum(got[0].params["amount_minor"] for got in incomes)
    assert net == first.payment_minor - first.payment_minor // 100  # less the 1 % fee
    assert incomes[0][0].params["loan_id"] == loan.id


def test_paying_now_tells_the_lenders_too(session, make_user, frozen_now):
    bo, lenders, loan = funded_loan(session, make_user, money=20_000)
    services.pay_now(session, bo.id, loan.id)
    assert len(told(session, bo.id, "instalment_paid")) == 1
    assert all(len(told(session, who.id, "repayment_received")) == 1 for who in lenders)


def test_the_borrower_is_reminded_three_days_ahead_once(session, make_user, frozen_now):
    bo, _lenders, loan = funded_loan(session, make_user)
    due_on = instalments(session, loan)[0].due_on
    assert reminders.run_due(session, at(due_on - timedelta(days=4))) == {
        "lending.instalment_reminders": 0
    }
    done = run_due_work(session, at(due_on - timedelta(days=3)))
    assert done["lending.instalment_reminders"] == 1
    assert (
        reminders.run_due(session, at(due_on - timedelta(days=2)))["lending.instalment_reminders"]
        == 0
    )  # once per instalment
    (note,) = told(session, bo.id, "instalment_due_soon")
    assert note.params["due_on"] == due_on.isoformat() and note.params["number"] == 1
    assert note.email_state in ("pending", "queued")


def test_late_and_default_tell_the_borrower_and_the_lenders(session, make_user, frozen_now):
    bo, lenders, loan = funded_loan(session, make_user)
    spend(session, bo.id, 57_600)
    due_on = instalments(session, loan)[0].due_on
    lending_due.run_due_lending(session, at(due_on + timedelta(days=16)))
    (late,) = told(session, bo.id, "instalment_late")
    assert late.params == {"number": 1, "loan_id": loan.id, "days": 16}
    assert all(len(told(session, who.id, "lent_loan_late")) == 1 for who in lenders)
    lending_due.run_due_lending(session, at(due_on + timedelta(days=120)))
    assert len(told(session, bo.id, "loan_defaulted")) == 1
    assert all(len(told(session, who.id, "lent_loan_defaulted")) == 1 for who in lenders)


def test_a_refused_command_tells_nobody(session, make_user, frozen_now):
    bo = borrower(make_user, session)
    request = listing(session, bo)
    lena = lender(make_user, session, money=1_000)
    before = len(told(session, bo.id))
    with pytest.raises(DomainError):
        ordering.commit_to_listing(session, lena.id, request.id, amount_minor=50_000, rate_bps=900)
    assert len(told(session, bo.id)) == before
