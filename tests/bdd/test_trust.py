"""Step code for features/trust: rating each other after a loan, double-blind reveal,
and a borrower's grade rising with on-time repayment."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from pytest_bdd import given, scenarios, then, when
from sqlalchemy import select

from p2pbank import clock, jobs
from p2pbank.audit.models import LogLeaf
from p2pbank.audit.services import pseudonym
from p2pbank.lending import ordering
from p2pbank.lending import services as lending
from p2pbank.lending.models import Instalment, Loan
from p2pbank.trust import services
from tests.support.stories import phrase

scenarios("trust/rate_each_other.feature")
scenarios("trust/grade_rises.feature")


def _signed_in(story, name: str):
    browser = story.browser(name)
    if browser.get("/dashboard").status_code != 200:
        browser.login(story.person(name).email)
    return browser


# --- rating each other ---------------------------------------------------------------------


@given(phrase("{borrower:Name}'s loan from {lender:Name} is completed"))
def _loan_completed(story, session, borrower, lender):
    (transaction,) = services.record_completed_transaction(
        session,
        ref_type="loan",
        ref_id=7,
        principal_id=story.person(borrower).id,
        counterparty_ids=[story.person(lender).id],
    )
    session.commit()
    story.note(borrower)["transaction"] = transaction.id
    story.note(lender)["transaction"] = transaction.id


@when(phrase('{rater:Name} rates {ratee:Name} "{value}" saying "{comment}"'))
def _rates(story, rater, ratee, value, comment):
    transaction = story.note(rater)["transaction"]
    browser = _signed_in(story, rater)
    url = f"/trust/transactions/{transaction}/rate"
    response = browser.submit(url, {"value": value, "comment": comment})
    assert response.status_code == 302, response.get_data(as_text=True)
    story.remember(rater, browser.get(response.headers["Location"]))


@when(phrase("{name:Name} looks at {other:Name}'s profile"))
def _looks_at_profile(story, name, other):
    page = _signed_in(story, name).get(f"/trust/members/{story.person(other).id}")
    assert page.status_code == 200
    story.remember(name, page)


@when(phrase("{name:Name} looks at his own profile"))
@when(phrase("{name:Name} looks at her own profile"))
def _looks_at_own_profile(story, name):
    _looks_at_profile(story, name, name)


@then("the trust log shows both ratings revealed together")
def _revealed_together(session):
    leaves = session.scalars(
        select(LogLeaf).where(LogLeaf.event_type.like("rating.%")).order_by(LogLeaf.sequence)
    ).all()
    assert [leaf.event_type for leaf in leaves] == [
        "rating.submitted",
        "rating.submitted",
        "rating.revealed",
        "rating.revealed",
    ]
    assert leaves[3].sequence == leaves[2].sequence + 1
    assert leaves[2].recorded_at == leaves[3].recorded_at


@then(phrase("{name:Name} can no longer rate {other:Name}"))
def _can_no_longer_rate(story, name, other):
    transaction = story.note(name)["transaction"]
    browser = _signed_in(story, name)
    assert browser.get(f"/trust/transactions/{transaction}/rate").status_code == 404
    assert f"Rate {other}" not in browser.get("/trust/ratings").get_data(as_text=True)


# --- a grade rising ------------------------------------------------------------------------


@given(phrase("{lender:Name} lends {borrower:Name} EUR {amount:Amount} over {months:d} months"))
def _lends(story, session, lender, borrower, amount, months):
    request = lending.request_loan(
        session,
        story.person(borrower).id,
        amount_minor=amount,
        term_months=months,
        max_rate_bps=1_200,
        purpose_category="car",
        purpose_text="A used car to get to work",
    )
    ordering.commit_to_listing(
        session, story.person(lender).id, request.id, amount_minor=amount, rate_bps=1_000
    )
    loan = session.scalar(select(Loan).where(Loan.request_id == request.id))
    assert loan is not None, "the listing was not funded"
    story.note(borrower)["loan"] = loan.id


@then(phrase("{name:Name} sees grade {grade}"))
def _sees_grade(story, name, grade):
    page = story.text(name)
    shown = re.search(r'Risk grade <span class="tag grade grade-\w" [^>]*>(\w)</span>', page)
    assert shown, "no grade on the page"
    assert shown.group(1) == grade


@when(phrase("the daily jobs run on each of {name:Name}'s due dates"))
def _jobs_on_due_dates(story, session, name):
    loan_id = story.note(name)["loan"]
    due_dates = session.scalars(
        select(Instalment.due_on).where(Instalment.loan_id == loan_id).order_by(Instalment.number)
    ).all()
    for day in due_dates:
        moment = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
        clock.set_now(moment)
        jobs.run_due_work(session, moment)


@then(phrase("{name:Name}'s loan is repaid"))
def _loan_repaid(story, session, name):
    session.expire_all()
    assert session.get(Loan, story.note(name)["loan"]).status == "repaid"


@then(phrase("the trust log records {name:Name}'s grade rising from {before} to {after}"))
def _grade_change_logged(story, session, name, before, after):
    subject = pseudonym(session, story.person(name).id)
    changes = [
        json.loads(bytes(leaf.data))["payload"]
        for leaf in session.scalars(
            select(LogLeaf)
            .where(LogLeaf.subject == subject, LogLeaf.event_type == "grade.changed")
            .order_by(LogLeaf.sequence)
        )
    ]
    grades = [changes[0]["from"], *(change["to"] for change in changes)]
    assert grades[0] is None and grades[1] == before, grades
    assert grades[-1] == after, grades


@then(phrase("{name:Name}'s next loan request is listed with grade {grade}"))
def _next_listing(story, session, name, grade):
    request = lending.request_loan(
        session,
        story.person(name).id,
        amount_minor=100_000,
        term_months=12,
        max_rate_bps=1_200,
        purpose_category="car",
        purpose_text="A second car for the family",
    )
    assert request.grade == grade
    page = _signed_in(story, name).get(f"/lending/listings/{request.id}").get_data(as_text=True)
    assert f"Risk grade {grade}" in page
