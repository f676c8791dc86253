"""Two buyers clicking "buy" on the same part at the same moment, for real: threads, each
with its own connection, on a PostgreSQL database made for the test. Exactly one gets
the part, the other is refused, and the books balance."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from p2pbank.errors import Conflict, InvalidState
from p2pbank.ledger import queries as ledger_queries
from p2pbank.ledger import services as ledger
from p2pbank.ledger.checks import check_ledger
from p2pbank.ledger.models import JournalEntry
from p2pbank.lending import ordering
from p2pbank.lending import services as lending
from p2pbank.lending.models import LoanPart
from p2pbank.resale import services
from p2pbank.resale.models import ResaleSale
from p2pbank.resale.read import quote_offer
from tests.support.concurrency import own_database, person, race

pytestmark = pytest.mark.postgres_only
__all__ = ["own_database"]


def test_a_part_is_sold_once_when_buyers_click_together(own_database):
    factory = own_database
    with factory() as session:
        bo = person(session, "Bo", ["borrower"])
        seller = person(session, "Seller", ["lender"], money=100_000)
        buyers = [person(session, f"Buyer{n}", ["lender"], money=100_000) for n in range(3)]
        request = lending.request_loan(
            session,
            bo.id,
            amount_minor=60_000,
            term_months=12,
            max_rate_bps=1_500,
            purpose_category="car",
            purpose_text="A used car to get to work",
        )
        ordering.commit_to_listing(
            session, seller.id, request.id, amount_minor=60_000, rate_bps=1_000
        )
        part = session.scalar(select(LoanPart).where(LoanPart.lender_id == seller.id))
        offer = services.offer_part(session, seller.id, part.id, premium_bps=-100)
        total = quote_offer(session, buyers[0], offer.id).quote.total_minor
        offer_id, part_id = offer.id, part.id

    outcomes = race(
        *(
            (
                lambda s, who=who: services.buy(
                    s, who.id, offer_id, expected_total_minor=total, idempotency_key="click"
                )
            )
            for who in buyers
        ),
        factory=factory,
    )
    won = [o for o in outcomes if isinstance(o, ResaleSale)]
    lost = [o for o in outcomes if isinstance(o, (Conflict, InvalidState))]
    assert len(won) == 1 and len(lost) == 2, outcomes

    with factory() as session:
        assert session.scalar(select(func.count()).select_from(ResaleSale)) == 1
        assert session.scalar(select(func.count()).where(JournalEntry.kind == "resale")) == 1
        owner = session.get(LoanPart, part_id).lender_id
        assert owner == won[0].buyer_id
        for buyer in buyers:
            posted = ledger_queries.balances(session, ledger.wallet_code(buyer.id)).posted
            assert posted == (100_000 - total if buyer.id == owner else 100_000)
        report = check_ledger(session)
        assert report.ok, report.violations
