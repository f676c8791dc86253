"""Step code for features/resale: selling and buying a loan part, through the pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from pytest_bdd import given, scenarios, then, when
from sqlalchemy import select

from p2pbank import clock
from p2pbank.lending import due as lending
from p2pbank.lending.models import Instalment, RepaymentShare
from p2pbank.resale.models import ResaleOffer, ResaleSale
from tests.support.lending import at, lender, running_loan
from tests.support.money import wallet

scenarios("resale/sell_and_buy_a_loan_part.feature")


@pytest.fixture
def market(frozen_now) -> dict:
    return {}


@given("a running loan in which Lena holds a part of EUR 200.00")
def _loan(session, make_user, market):
    _bo, (lena, _lars, _lou), loan, (part, *_rest) = running_loan(session, make_user)
    first = session.scalar(
        select(Instalment.due_on).where(Instalment.loan_id == loan.id, Instalment.number == 1)
    )
    at(first - timedelta(days=10))
    market.update(lena=lena, loan=loan, part=part, first_due=first)
    market["bea"] = lender(make_user, session, "Bea")


@when("Lena offers her part at 2 % below its principal")
def _offer(signed_in, market):
    browser = signed_in(market["lena"])
    page = f"/resale/parts/{market['part'].id}/sell"
    response = browser.submit(page, {"premium": "-2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    market["lena_browser"] = browser


def _offer_row(session, market) -> ResaleOffer:
    return session.scalar(select(ResaleOffer).where(ResaleOffer.part_id == market["part"].id))


@when("Bea buys it at the price she was shown")
def _buy(session, signed_in, market):
    browser = signed_in(market["bea"])
    offer = _offer_row(session, market)
    html = browser.get(f"/resale/offers/{offer.id}").get_data(as_text=True)
    shown = int(re.search(r'name="expected_total_minor" value="(\d+)"', html).group(1))
    market["before"] = (wallet(session, market["bea"].id)[0], wallet(session, market["lena"].id)[0])
    response = browser.submit(
        f"/resale/offers/{offer.id}",
        {"expected_total_minor": str(shown), "idempotency_key": "bea-click"},
        action=f"/resale/offers/{offer.id}/buy",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    market["shown"] = shown


@then("Bea's wallet paid the price and the accrued interest")
def _buyer_paid(session, market):
    sale = session.scalar(select(ResaleSale))
    assert sale.total_minor == market["shown"] == 19_600 + sale.accrued_minor
    assert wallet(session, market["bea"].id)[0] == market["before"][0] - sale.total_minor


@then("Lena's wallet got that less the platform's 1 % fee")
def _seller_got(session, market):
    sale = session.scalar(select(ResaleSale))
    assert sale.fee_minor == (sale.total_minor + 50) // 100
    assert wallet(session, market["lena"].id)[0] == market["before"][1] + sale.seller_gets_minor


@then("the next instalment of the part goes to Bea")
def _next_to_buyer(session, market):
    at(market["first_due"])
    lending.run_due_lending(session, clock.now())
    shares = session.scalars(
        select(RepaymentShare).where(RepaymentShare.part_id == market["part"].id)
    ).all()
    assert [s.lender_id for s in shares] == [market["bea"].id]


@then("Lena cannot buy her own part")
def _no_self_dealing(session, market):
    offer = _offer_row(session, market)
    browser = market["lena_browser"]
    response = browser.submit(
        f"/resale/offers/{offer.id}",
        {"expected_total_minor": "1", "idempotency_key": "lena-click"},
        action=f"/resale/offers/{offer.id}/buy",
    )
    assert response.status_code == 403
    assert session.scalar(select(ResaleSale)) is None
