"""Step code for features/statistics: the public statistics page and the home page."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pytest_bdd import given, scenarios, then, when
from sqlalchemy import select

from p2pbank import clock
from p2pbank.lending import due as lending_due
from p2pbank.lending.models import Instalment
from tests.support.lending import borrower, lender, listing, one_lender_loan
from tests.support.money import spend, wallet
from tests.support.stories import phrase

scenarios("statistics/public_statistics.feature")


@pytest.fixture
def seen() -> dict:
    return {"loans": {}, "requests": {}, "page": ""}


def _loan(session, make_user, seen, name, minor):
    bo = borrower(make_user, session, name)
    lena = lender(make_user, session, f"Lender {name}", money=minor)
    seen["loans"][name] = (bo, one_lender_loan(session, bo, lena, amount=minor, max_rate=1_200))


@given(
    phrase(
        "a loan of EUR {a:Amount} to {x:Name} and a loan of EUR {b:Amount} to {y:Name}, "
        "both grade D"
    )
)
def _two_loans(session, make_user, seen, a, x, b, y, frozen_now):
    _loan(session, make_user, seen, x, a)
    _loan(session, make_user, seen, y, b)


@given(phrase("a loan of EUR {a:Amount} to {x:Name}, grade D"))
def _one_loan(session, make_user, seen, a, x, frozen_now):
    _loan(session, make_user, seen, x, a)


@given(phrase("{name:Name}'s loan went into default"))
def _default(session, seen, name):
    bo, loan = seen["loans"][name]
    spend(session, bo.id, wallet(session, bo.id)[2])
    first_due = session.scalar(
        select(Instalment.due_on).where(Instalment.loan_id == loan.id).order_by(Instalment.number)
    )
    for days in (119, 120):
        day = first_due + timedelta(days=days)
        moment = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
        clock.set_now(moment)
        lending_due.run_due_lending(session, moment)
    session.refresh(loan)
    assert loan.status == "defaulted"


@given(phrase("an open loan request by {name:Name}"))
def _open_request(session, make_user, seen, name, frozen_now):
    seen["requests"][name] = listing(session, borrower(make_user, session, name), amount=80_000)


@when("a visitor opens the statistics page")
def _open_statistics(client, seen):
    response = client.get("/statistics")
    assert response.status_code == 200
    seen["page"] = response.get_data(as_text=True)


@when("a visitor opens the home page")
def _open_home(client, seen):
    seen["page"] = client.get("/").get_data(as_text=True)


def _figure(page: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', page).group(1)


@then(phrase("the page shows {count:d} loans issued for EUR {amount:Amount}"))
def _issued(seen, count, amount):
    assert _figure(seen["page"], "loans") == f"{count} · €{amount / 100:,.2f}"


@then(
    phrase(
        "the default rates for grade D show EUR {amount:Amount} in default, an actual rate of "
        "{actual} beside an expected {expected}"
    )
)
def _default_rates(seen, amount, actual, expected):
    row = re.search(r'<tr data-vintage="\d{4}-D">(.*?)</tr>', seen["page"]).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells[5].endswith(f"€{amount / 100:,.2f}")
    assert cells[6:] == [actual, expected]


@then("the page explains how the default rates are calculated")
def _explains(seen):
    assert "How these rates are calculated" in seen["page"]
    assert "Regulation (EU) 2020/1503" in seen["page"]


@then("the same default rate is in the CSV download")
def _csv(client):
    rows = csv.DictReader(io.StringIO(client.get("/statistics.csv").get_data(as_text=True)))
    assert [r["actual_bps"] for r in rows if r["table"] == "defaults"] == ["3000"]


@then(phrase("the home page shows EUR {amount:Amount} lent in {count:d} loan"))
def _home_figures(seen, amount, count):
    assert f"€{amount / 100:,.2f} · {count} loan" in seen["page"]


@then(phrase("the home page shows {name:Name}'s open request without his name"))
def _home_listing(seen, name):
    assert f'data-listing="{seen["requests"][name].id}"' in seen["page"]
    assert name not in seen["page"]
