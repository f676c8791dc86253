"""Real concurrency on PostgreSQL: real threads, each with its own connection and its own
commits, on a database made for this test and dropped after it (the ledger's history is
immutable, so a shared database could not be cleaned).

* Two lenders racing for the last slice of a listing never overfund it.
* Cancelling an order while matching runs on it never loses money.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.errors import Conflict, InvalidState
from p2pbank.ledger import queries as ledger_queries
from p2pbank.ledger import services as ledger
from p2pbank.ledger.checks import check_ledger
from p2pbank.lending import ordering, services
from p2pbank.lending.models import (
    Commitment,
    CommitmentStatus,
    LenderOrder,
    LoanPart,
    LoanRequest,
    OrderStatus,
    RequestStatus,
)
from tests.support.concurrency import own_database, person, race

pytestmark = pytest.mark.postgres_only
__all__ = ["own_database"]  # a fixture


def test_two_lenders_racing_for_the_last_slice_never_overfund(own_database):
    factory = own_database
    with factory() as session:
        bo = person(session, "Bo", ["borrower"])
        first = person(session, "First", ["lender"], money=100_000)
        racers = [person(session, f"Racer{n}", ["lender"], money=100_000) for n in range(2)]
        request = services.request_loan(
            session,
            bo.id,
            amount_minor=60_000,
            term_months=12,
            max_rate_bps=1_500,
            purpose_category="car",
            purpose_text="A used car to get to work",
        )
        ordering.commit_to_listing(
            session, first.id, request.id, amount_minor=57_500, rate_bps=1_000
        )
        request_id = request.id

    for round_ in range(3):
        outcomes = race(
            *(
                (
                    lambda s, who=who, round_=round_: ordering.commit_to_listing(
                        s,
                        who.id,
                        request_id,
                        amount_minor=2_500,
                        rate_bps=1_100,
                        idempotency_key=f"race-{round_}",
                    )
                )
                for who in racers
            ),
            factory=factory,
        )
        if round_ == 0:
            won = [o for o in outcomes if isinstance(o, Commitment)]
            lost = [o for o in outcomes if isinstance(o, (Conflict, InvalidState))]
            assert len(won) == 1 and len(lost) == 1, outcomes
        else:  # the listing is funded: every later attempt is refused
            assert all(isinstance(o, (Conflict, InvalidState)) for o in outcomes), outcomes

    with factory() as session:
        request = session.get(LoanRequest, request_id)
        assert request.status == RequestStatus.FUNDED
        assert request.funded_minor == request.amount_minor == 60_000
        lent = session.scalars(select(LoanPart.principal_minor)).all()
        assert sum(lent) == 60_000
        for racer in racers:
            posted, held, _ = ledger_queries.balances(session, ledger.wallet_code(racer.id))
            assert held == 0
            assert posted + lent_by(session, racer.id) == 100_000
        report = check_ledger(session)
        assert report.ok, report.violations


def lent_by(session: Session, lender_id: int) -> int:
    return sum(
        session.scalars(select(LoanPart.principal_minor).where(LoanPart.lender_id == lender_id))
    )


def test_two_orders_racing_for_the_last_slice_never_overfund(own_database):
    factory = own_database
    with factory() as session:
        bo = person(session, "Bo", ["borrower"])
        first = person(session, "First", ["lender"], money=100_000)
        racers = [person(session, f"Racer{n}", ["lender"], money=100_000) for n in range(3)]
        request = services.request_loan(
            session,
            bo.id,
            amount_minor=60_000,
            term_months=12,
            max_rate_bps=1_500,
            purpose_category="car",
            purpose_text="A used car to get to work",
        )
        ordering.commit_to_listing(
            session, first.id, request.id, amount_minor=55_000, rate_bps=1_000
        )
        request_id = request.id

    outcomes = race(
        *(
            (
                lambda s, who=who: ordering.place_order(
                    s,
                    who.id,
                    amount_minor=10_000,
                    min_rate_bps={"D": 900},
                    max_per_borrower_minor=10_000,
                )
            )
            for who in racers
        ),
        factory=factory,
    )
    assert all(isinstance(o, LenderOrder) for o in outcomes), outcomes
    with factory() as session:
        request = session.get(LoanRequest, request_id)
        assert request.status == RequestStatus.FUNDED
        assert request.funded_minor == 60_000
        assert sum(session.scalars(select(LoanPart.principal_minor))) == 60_000
        for racer in racers:
            order_row = session.scalar(select(LenderOrder).where(LenderOrder.lender_id == racer.id))
            posted, held, _ = ledger_queries.balances(session, ledger.wallet_code(racer.id))
            assert held == order_row.remaining_minor
            assert posted + lent_by(session, racer.id) == 100_000
        report = check_ledger(session)
        assert report.ok, report.violations


def test_cancelling_an_order_while_it_is_being_matched_never_loses_money(own_database):
    factory = own_database
    with factory() as session:
        lena = person(session, "Lena", ["lender"], money=1_000_000)
        borrowers = [person(session, f"B{n}", ["borrower"]) for n in range(6)]

    for n, who in enumerate(borrowers):
        with factory() as session:
            placed = ordering.place_order(
                session,
                lena.id,
                amount_minor=100_000,
                min_rate_bps={"D": 800},
                max_per_borrower_minor=100_000,
                idempotency_key=f"order-{n}",
            )
            order_id = placed.id
        outcomes = race(
            lambda s, who=who: services.request_loan(
                s,
                who.id,
                amount_minor=60_000,
                term_months=12,
                max_rate_bps=1_200,
                purpose_category="car",
                purpose_text="A used car to get to work",
            ),
            lambda s, order_id=order_id: ordering.cancel_order(s, lena.id, order_id),
            factory=factory,
        )
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes
        with factory() as session:
            order_row = session.get(LenderOrder, order_id)
            assert order_row.status == OrderStatus.CANCELLED
            assert order_row.remaining_minor == 0
            assert_lena_whole(session, lena.id)

    with factory() as session:
        report = check_ledger(session)
        assert report.ok, report.violations


def assert_lena_whole(session: Session, lender_id: int) -> None:
    """Every cent of Lena's is in her wallet, held for a listing, or lent out."""
    posted, held, _available = ledger_queries.balances(session, ledger.wallet_code(lender_id))
    committed = sum(
        session.scalars(
            select(Commitment.amount_minor).where(
                Commitment.lender_id == lender_id, Commitment.status == CommitmentStatus.HELD
            )
        )
    )
    order_money = sum(
        session.scalars(
            select(LenderOrder.remaining_minor).where(LenderOrder.lender_id == lender_id)
        )
    )
    assert held == committed + order_money
    assert posted + lent_by(session, lender_id) == 1_000_000
