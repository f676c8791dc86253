"""Step code for features/notifications: the past of a scenario (a loan) is made through
the services, time moves with the clock and the daily work runs through `flask tick`, and
people read their bell, their notifications page and their mail as a person would."""

from __future__ import annotations

import re
from datetime import timedelta

from pytest_bdd import given, scenarios, then, when
from sqlalchemy import select

from p2pbank import clock
from p2pbank.identity.models import OutboxMail
from p2pbank.lending import ordering
from p2pbank.lending import services as lending
from p2pbank.lending.models import Instalment, Loan
from p2pbank.notifications import kinds
from tests.support.money import deposit
from tests.support.stories import email_of, phrase

scenarios("notifications/being_told.feature")

BELL = re.compile(r'id="bell"[^>]*>.*?</a>', re.S)


def _person(story, make_user, session, name: str, role: str):
    if name not in story.people:
        story.people[name] = make_user(
            roles=[role], kyc="verified", email=email_of(name), name=name
        )
    return story.people[name]


def _page(story, name: str, path: str) -> str:
    browser = story.browser(name)
    page = browser.get(path)
    if page.status_code == 302 and "/login" in page.headers.get("Location", ""):
        browser.login(story.person(name).email)
        page = browser.get(path)
    story.remember(name, page)
    assert page.status_code == 200, path
    return page.get_data(as_text=True)


def _first_instalment(session, story, name: str) -> Instalment:
    session.expire_all()
    loan = session.scalar(select(Loan).where(Loan.borrower_id == story.person(name).id))
    return session.scalar(
        select(Instalment).where(Instalment.loan_id == loan.id, Instalment.number == 1)
    )


def _daily_work_on(story, day) -> None:
    start = clock.now()
    result = story.app.test_cli_runner().invoke(args=["tick", "--until", day.isoformat()])
    assert result.exit_code == 0, result.output
    clock.set_now(start + timedelta(days=(day - start.date()).days))


@given(phrase("{lender:Name} lent EUR {amount:Amount} to {name:Name} over {months:d} months"))
def _lent(story, session, make_user, lender, amount, name, months):
    bo = _person(story, make_user, session, name, "borrower")
    lena = _person(story, make_user, session, lender, "lender")
    deposit(session, lena.id, amount, memo="Card deposit")
    request = lending.request_loan(
        session,
        bo.id,
        amount_minor=amount,
        term_months=months,
        max_rate_bps=1_400,
        purpose_category="car",
        purpose_text="A used car to get to work",
    )
    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=amount, rate_bps=1_200)


@given(phrase("{name:Name} has EUR {amount:Amount} in his wallet"))
@given(phrase("{name:Name} has EUR {amount:Amount} in her wallet"))
def _has_money(story, session, name, amount):
    deposit(session, story.person(name).id, amount, memo="Card deposit")


@given(phrase('{name:Name} turned off mail about "{label}" in her settings'))
@given(phrase('{name:Name} turned off mail about "{label}" in his settings'))
def _turned_off(story, name, label):
    page = _page(story, name, "/settings/notifications")
    (off,) = [k.name for k in kinds.KINDS.values() if k.label == label]
    kept = [k for k in re.findall(r'name="email" value="([a-z_]+)" checked', page) if k != off]
    response = story.browser(name).submit("/settings/notifications", {"email": kept})
    assert response.status_code == 302


@when(phrase("the first instalment of {name:Name}'s loan falls due and the daily work runs"))
def _falls_due(story, session, name):
    _daily_work_on(story, _first_instalment(session, story, name).due_on)


@when(
    phrase(
        "it is {days:d} days before the first instalment of {name:Name}'s loan and the daily "
        "work runs"
    )
)
def _days_before(story, session, days, name):
    _daily_work_on(story, _first_instalment(session, story, name).due_on - timedelta(days=days))


@when(phrase("{name:Name} marks all her notifications read"))
@when(phrase("{name:Name} marks all his notifications read"))
def _marks_all_read(story, name):
    _page(story, name, "/notifications")
    response = story.browser(name).submit("/notifications", {}, action="/notifications/read-all")
    assert response.status_code == 302


@then(phrase("{name:Name}'s bell shows unread notifications"))
def _bell_unread(story, name):
    bell = BELL.search(_page(story, name, "/dashboard")).group(0)
    assert re.search(r'<span class="count">\d+</span>', bell), bell


@then(phrase("{name:Name}'s bell shows no unread notifications"))
def _bell_quiet(story, name):
    bell = BELL.search(_page(story, name, "/dashboard")).group(0)
    assert 'class="count"' not in bell, bell


@then(phrase('{name:Name} finds "{text}" on her notifications page'))
@then(phrase('{name:Name} finds "{text}" on his notifications page'))
def _finds(story, name, text):
    assert text in _page(story, name, "/notifications")


def _mails(session, story, name: str, text: str) -> list[OutboxMail]:
    session.expire_all()
    found = session.scalars(
        select(OutboxMail).where(OutboxMail.to_address == story.person(name).email)
    )
    return [m for m in found if text in m.subject]


@then(phrase('{name:Name} gets a mail saying "{text}"'))
def _mailed(story, session, name, text):
    (mail,) = _mails(session, story, name, text)
    assert "/settings/notifications" in mail.body  # how to turn it off


@then(phrase('{name:Name} gets no mail saying "{text}"'))
def _not_mailed(story, session, name, text):
    assert _mails(session, story, name, text) == []
