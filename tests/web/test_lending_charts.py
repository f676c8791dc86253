"""Charts on the lender's and the borrower's dashboards, drawn on the server."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from p2pbank import clock
from p2pbank.lending import due as lending_due
from p2pbank.lending.models import Instalment
from tests.support.lending import borrower, lender, one_lender_loan


def test_lender_sees_portfolio_and_income_charts_and_borrower_the_schedule(
    session, make_user, signed_in, frozen_now
):
    bo = borrower(make_user, session, "Bo", money=50_000)
    lena = lender(make_user, session, "Lena")
    loan = one_lender_loan(session, bo, lena, amount=100_000, max_rate=1_200, rate=1_000)
    due = session.scalar(
        select(Instalment.due_on).where(Instalment.loan_id == loan.id).order_by(Instalment.number)
    )
    moment = datetime(due.year, due.month, due.day, 6, tzinfo=UTC)
    clock.set_now(moment)
    lending_due.run_due_lending(session, moment)  # the first instalment is collected

    lend = signed_in(lena).get("/lending/lend").get_data(as_text=True)
    charts = lend[lend.index("data-charts") :]
    assert charts.count('<svg class="bar-chart"') == 3
    assert re.search(r'class="chart-bar chart-bar-D"><title>D: €1,000.00</title>', charts)
    assert f"<title>{due.strftime('%Y-%m')}: €" in charts  # this month's interest

    borrow = signed_in(bo).get("/lending/borrow").get_data(as_text=True)
    chart = borrow[borrow.index(f'data-schedule-chart="{loan.id}"') :]
    assert chart.count('class="chart-bar chart-bar-paid"') == 1
    assert chart.count('class="chart-bar chart-bar-upcoming"') == 11
