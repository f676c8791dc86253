"""Step code for features/questions: asking and answering on a listing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select

from p2pbank import clock
from p2pbank.questions.models import Question
from tests.support.lending import borrower, lender, listing
from tests.support.stories import phrase

scenarios("questions/ask_and_answer.feature")


@pytest.fixture
def qa(frozen_now) -> dict:
    return {"people": {}, "listing": None, "refused": None}


def _browser(signed_in, qa, name):
    return signed_in(qa["people"][name])


@given(phrase("a borrower {name:Name} with an open listing"))
def _borrower(session, make_user, qa, name):
    qa["people"][name] = borrower(make_user, session, name)
    qa["listing"] = listing(session, qa["people"][name])


@given(phrase("a lender {name:Name}"))
def _lender(session, make_user, qa, name):
    qa["people"][name] = lender(make_user, session, name)


def _page(qa) -> str:
    return f"/lending/listings/{qa['listing'].id}"


@when(parsers.parse('{name} asks {owner} "{body}"'))
def _asks(signed_in, qa, name, owner, body):
    response = _browser(signed_in, qa, name).submit(
        _page(qa), {"body": body}, action=f"/questions/listing/{qa['listing'].id}"
    )
    assert response.status_code == 302


@when(phrase("{count:d} hours pass"))
def _hours(count):
    clock.advance(timedelta(hours=count))


@when(parsers.parse('{name} answers "{body}"'))
def _answers(session, signed_in, qa, name, body):
    question = session.scalars(select(Question)).one()
    response = _browser(signed_in, qa, name).submit(
        _page(qa), {"body": body}, action=f"/questions/{question.id}/answer"
    )
    assert response.status_code == 302


@when(phrase("{name:Name} tries to answer her own question"))
def _tries(session, signed_in, qa, name):
    question = session.scalars(select(Question)).one()
    qa["refused"] = _browser(signed_in, qa, name).submit(
        _page(qa), {"body": "I know better"}, action=f"/questions/{question.id}/answer"
    )


def _shown(signed_in, qa) -> str:
    viewer = next(p for n, p in qa["people"].items() if n != "Bo")
    return signed_in(viewer).get(_page(qa)).get_data(as_text=True)


@then(phrase("the listing shows the question as unanswered for {hours:d} h"))
def _unanswered(signed_in, qa, hours):
    assert f"unanswered for {hours} h" in _shown(signed_in, qa)


@then(parsers.parse('the listing shows the answer "{body}" answered in {hours:d} h'))
def _answered(signed_in, qa, body, hours):
    page = _shown(signed_in, qa)
    assert body in page and f"answered in {hours} h" in page


@then(
    parsers.parse(
        "{name}'s record shows {answered:d} of {counted:d} questions answered within 24 hours"
    )
)
def _record(signed_in, qa, name, answered, counted):
    record = re.search(r"data-answer-record>([^<]*)<", _shown(signed_in, qa)).group(1)
    assert f"({answered} of {counted})" in record


@then("she is refused")
def _refused(qa):
    assert qa["refused"].status_code == 403
