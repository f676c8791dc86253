"""/statistics, its JSON and CSV, and the home page's live figures: no sign-in needed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from p2pbank import clock
from p2pbank.lending import due as lending_due
from p2pbank.lending.models import Instalment
from tests.support.crowdfunding import an_initiator, live
from tests.support.lending import borrower, lender, listing, one_lender_loan
from tests.support.money import spend, wallet


def issued_loan(session, make_user, name, amount):
    bo = borrower(make_user, session, name)
    lena = lender(make_user, session, f"Lender of {name}")
    return bo, one_lender_loan(session, bo, lena, amount=amount, max_rate=1_200)


def test_statistics_show_the_loan_book_and_a_default_to_anyone(
    session, make_user, client, frozen_now
):
    bo, bad = issued_loan(session, make_user, "Dana", 60_000)
    issued_loan(session, make_user, "Eli", 140_000)
    spend(session, bo.id, wallet(session, bo.id)[2])  # Dana spends the loan: nothing repays it
    first_due = session.scalar(
        select(Instalment.due_on).where(Instalment.loan_id == bad.id).order_by(Instalment.number)
    )
    for days in (119, 120):  # late first, then in default at 120 days
        day = first_due + timedelta(days=days)
        moment = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
        clock.set_now(moment)
        lending_due.run_due_lending(session, moment)
    session.refresh(bad)
    assert bad.status == "defaulted"

    page = client.get("/statistics")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Default rates by vintage and grade" in text and "<svg" in text

    data = client.get("/statistics.json").get_json()
    assert data["summary"]["loans"] == 2 and data["summary"]["principal_minor"] == 200_000
    (row,) = [r for r in data["default_rates"] if r["defaulted_loans"]]
    assert row["defaulted_minor"] == 60_000 and row["principal_minor"] == 200_000
    assert row["actual_bps"] == 3_000  # 60,000 of 200,000
    assert data["listings"] == {"ended": 2, "funded": 2, "funded_share_bps": 10_000}

    response = client.get("/statistics.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    defaults = [r for r in rows if r["table"] == "defaults"]
    assert [(r["defaulted_minor"], r["actual_bps"]) for r in defaults] == [("60000", "3000")]


def test_the_home_page_shows_live_figures_listings_and_campaigns_without_signing_in(
    session, make_user, client, frozen_now
):
    issued_loan(session, make_user, "Fay", 100_000)
    open_request = listing(session, borrower(make_user, session, "Gus"), amount=80_000)
    live(session, an_initiator(make_user), title="Street oven for everyone")
    text = client.get("/").get_data(as_text=True)
    assert "€1,000.00 · 1 loan" in text
    assert f'data-listing="{open_request.id}"' in text
    assert "Gus" not in text  # borrowers are not named to anonymous visitors
    assert "Street oven for everyone" in text
