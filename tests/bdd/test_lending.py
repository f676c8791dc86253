"""Step code for features/lending: asking, lending by hand and by order, issuing,
repaying, arrears, default and early repayment. People act through the pages where a
person would; the set-up of a scenario's past goes through the services; time moves with
the clock and the daily work runs through `flask tick`, as in production.

The ledger check runs after every scenario (the autouse fixture below), whatever its
last step."""

from __future__ import annotations

import re
from datetime import timedelta
from fractions import Fraction

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select

from p2pbank import clock
from p2pbank.ledger import queries as ledger_queries
from p2pbank.ledger import services as ledger
from p2pbank.ledger.checks import check_ledger
from p2pbank.ledger.models import JournalEntry
from p2pbank.lending import ordering, services
from p2pbank.lending.models import (
    Commitment,
    Instalment,
    LenderOrder,
    Loan,
    LoanPart,
    LoanRequest,
    Repayment,
    RepaymentShare,
)
from tests.support.money import deposit, spend
from tests.support.stories import email_of, phrase, shown_money

scenarios("lending/funded_by_three_lenders.feature")
scenarios("lending/order_spread_over_many_borrowers.feature")
scenarios("lending/listing_expires.feature")
scenarios("lending/late_payment.feature")
scenarios("lending/default_and_write_off.feature")
scenarios("lending/early_repayment.feature")


@pytest.fixture(autouse=True)
def _ledger_check_after_every_scenario(session):
    yield
    session.expire_all()
    report = check_ledger(session)
    assert report.ok, report.violations


@pytest.fixture
def asked() -> dict:
    """The loan request form as the borrower filled it in."""
    return {}


def _page(story, name: str, path: str):
    browser = story.browser(name)
    page = browser.get(path)
    if page.status_code == 302 and "/login" in page.headers.get("Location", ""):
        browser.login(story.person(name).email)
        page = browser.get(path)
    story.remember(name, page)
    return page


def _person(story, make_user, name: str, role: str):
    if name not in story.people:
        story.people[name] = make_user(
            roles=[role], kyc="verified", email=email_of(name), name=name
        )
    return story.people[name]


def _listing_of(session, story, name: str) -> LoanRequest:
    session.expire_all()
    return session.scalar(
        select(LoanRequest)
        .where(LoanRequest.borrower_id == story.person(name).id)
        .order_by(LoanRequest.id.desc())
    )


def _loan_of(session, story, name: str) -> Loan:
    session.expire_all()
    return session.scalar(select(Loan).where(Loan.borrower_id == story.person(name).id))


def _names(text: str) -> list[str]:
    return [n for n in re.split(r",\s*|\s+and\s+", text) if n]


def _tick_until(story, day) -> None:
    """The daily work, day by day, through the command line; the scenario's clock then
    stands on that day (the command itself leaves the clock as it found it)."""
    start = clock.now()
    result = story.app.test_cli_runner().invoke(args=["tick", "--until", day.isoformat()])
    assert result.exit_code == 0, result.output
    clock.set_now(start + timedelta(days=(day - start.date()).days))


# --- asking for a loan ---------------------------------------------------------------------


@when(
    phrase(
        "{name:Name} asks for EUR {amount:Amount} over {term:d} months at no more than "
        '{rate:Amount}% for "{purpose}"'
    )
)
def _asks(story, asked, name, amount, term, rate, purpose):
    asked.clear()
    asked.update(
        {
            "amount": f"{amount // 100}.{amount % 100:02d}",
            "term_months": str(term),
            "max_rate": f"{rate // 100}.{rate % 100:02d}",
            "purpose_category": "car",
            "purpose_text": purpose,
            "method": "annuity",
        }
    )
    response = story.browser(name).submit("/lending/requests/new", {**asked, "action": "preview"})
    story.remember(name, response)


@then(phrase("{name:Name} sees the schedule with its APR and total cost before listing"))
def _sees_schedule(story, session, asked, name):
    page = story.text(name)
    assert "APR (fee included)" in page and "Total cost of the credit" in page
    assert page.count('class="row-upcoming"') == int(asked["term_months"])
    assert _listing_of(session, story, name) is None


@when(phrase("{name:Name} lists the request"))
def _lists(story, asked, name):
    response = story.browser(name).submit("/lending/requests/new", {**asked, "action": "confirm"})
    story.remember(name, response)


@then("nothing is listed")
def _nothing_listed(session):
    assert session.scalar(select(LoanRequest)) is None


# --- lending -------------------------------------------------------------------------------


@when(phrase("{lender:Name} lends EUR {amount:Amount} at {rate:Amount}% to {name:Name}'s listing"))
def _lends(story, session, lender, amount, rate, name):
    request = _listing_of(session, story, name)
    _page(story, lender, f"/lending/listings/{request.id}")  # signs the lender in if needed
    response = story.browser(lender).submit(
        f"/lending/listings/{request.id}",
        {"amount": f"{amount / 100:.2f}", "rate": f"{rate / 100:.2f}"},
        action=f"/lending/listings/{request.id}/commit",
    )
    assert response.status_code == 302, response.get_data(as_text=True)


@then(
    phrase(
        "{name:Name}'s loan of EUR {amount:Amount} is issued with {count:d} lenders at their "
        "own rates"
    )
)
def _issued(story, session, name, amount, count):
    loan = _loan_of(session, story, name)
    assert loan is not None and loan.principal_minor == amount
    parts = session.scalars(select(LoanPart).where(LoanPart.loan_id == loan.id)).all()
    assert len(parts) == count
    commitments = {c.id: c.rate_bps for c in session.scalars(select(Commitment))}
    assert all(p.rate_bps == commitments[p.commitment_id] for p in parts)
    funding = session.scalars(select(JournalEntry).where(JournalEntry.kind == "loan_funding")).all()
    assert len(funding) == 1  # one balanced entry
    page = _page(story, name, f"/lending/loans/{loan.id}").get_data(as_text=True)
    assert f"weighted over {count} lenders" in page


@then(phrase("the platform kept an origination fee of EUR {fee:Amount}"))
def _fee(session, fee):
    assert ledger_queries.balances(session, ledger.PLATFORM_FEES).posted == fee


@when(phrase("every due date of {name:Name}'s loan passes with the daily work run"))
def _every_due_date(story, session, name):
    loan = _loan_of(session, story, name)
    rows = session.scalars(select(Instalment).where(Instalment.loan_id == loan.id)).all()
    needed = sum(r.payment_minor for r in rows)
    have = ledger_queries.balances(session, ledger.wallet_code(loan.borrower_id)).available
    if have < needed:
        deposit(session, loan.borrower_id, needed - have, memo="Card deposit")
    _tick_until(story, max(r.due_on for r in rows))


@then(phrase("{name:Name}'s loan is repaid"))
def _repaid(story, session, name):
    loan = _loan_of(session, story, name)
    assert loan.status == "repaid"
    page = _page(story, name, f"/lending/loans/{loan.id}").get_data(as_text=True)
    assert 'data-status="repaid"' in page


@then("every payment was shared among the lenders to the cent")
def _shared(session):
    repayments = session.scalars(select(Repayment)).all()
    assert repayments
    for repayment in repayments:
        shares = session.scalars(
            select(RepaymentShare).where(RepaymentShare.repayment_id == repayment.id)
        ).all()
        assert sum(s.gross_minor for s in shares) == repayment.amount_minor
        assert sum(s.servicing_fee_minor for s in shares) == repayment.servicing_fee_minor


@then(phrase("{names} each got back more than they lent"))
def _got_back_more(story, session, names):
    for name in _names(names):
        lender = story.person(name)
        posted = ledger_queries.balances(session, ledger.wallet_code(lender.id)).posted
        assert posted > 100_000, (name, posted)
        page = _page(story, name, "/lending/lend").get_data(as_text=True)
        nar = re.search(r"data-nar>([^<]*)<", page).group(1)
        assert nar.endswith("%") and not nar.startswith("-"), nar


@then(phrase("{name:Name}'s borrowing limit is EUR {amount:Amount}"))
def _limit(story, name, amount):
    page = _page(story, name, "/lending/borrow").get_data(as_text=True)
    shown = re.search(r"data-limit>([^<]*)<", page).group(1)
    assert shown == shown_money(story, amount)


# --- an order over many borrowers ----------------------------------------------------------


@given(
    phrase(
        "verified borrowers {names} each ask for EUR {amount:Amount} over {term:d} months at "
        "up to {rate:Amount}%"
    )
)
def _borrowers_ask(story, session, make_user, names, amount, term, rate):
    for name in _names(names):
        person = _person(story, make_user, name, "borrower")
        services.request_loan(
            session,
            person.id,
            amount_minor=amount,
            term_months=term,
            max_rate_bps=rate,
            purpose_category="home",
            purpose_text=f"{name} needs a new boiler",
        )


@when(
    phrase(
        "{name:Name} places an order of EUR {amount:Amount} in slices of EUR {slice:Amount} for "
        "grade {grade} at {rate:Amount}% or more"
    )
)
def _places_order(story, name, amount, slice, grade, rate):
    response = story.browser(name).submit(
        "/lending/orders/new",
        {
            "amount": f"{amount / 100:.2f}",
            "slice": f"{slice / 100:.2f}",
            f"rate_{grade.lower()}": f"{rate / 100:.2f}",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    story.remember(name, response)


@then(phrase("{name:Name}'s order lent EUR {amount:Amount} to each of the {count:d} borrowers"))
def _order_spread(story, session, name, amount, count):
    lender = story.person(name)
    commitments = session.scalars(select(Commitment).where(Commitment.lender_id == lender.id)).all()
    borrowers = {session.get(LoanRequest, c.request_id).borrower_id for c in commitments}
    assert len(borrowers) == count
    assert all(c.amount_minor == amount for c in commitments)


@then(phrase("{name:Name}'s order still holds EUR {amount:Amount} for new listings"))
def _order_holds(story, session, name, amount):
    session.expire_all()
    order = session.scalar(
        select(LenderOrder).where(LenderOrder.lender_id == story.person(name).id)
    )
    assert order.status == "active" and order.remaining_minor == amount
    page = _page(story, name, f"/lending/orders/{order.id}").get_data(as_text=True)
    assert re.search(r"data-remaining>([^<]*)<", page).group(1) == shown_money(story, amount)


@then(phrase("every listing explains that {name:Name}'s order took EUR {amount:Amount} at {rate}"))
def _explained(story, session, name, amount, rate):
    for request in session.scalars(select(LoanRequest)):
        page = _page(story, name, f"/lending/listings/{request.id}").get_data(as_text=True)
        assert f"{shown_money(story, amount)} at {rate} — <strong>yours</strong>" in page, page


# --- expiry --------------------------------------------------------------------------------


@given(
    phrase(
        "{name:Name} has listed a request for EUR {amount:Amount} over {term:d} months at up to "
        "{rate:Amount}%"
    )
)
def _has_listed(story, session, name, amount, term, rate):
    services.request_loan(
        session,
        story.person(name).id,
        amount_minor=amount,
        term_months=term,
        max_rate_bps=rate,
        purpose_category="car",
        purpose_text="A used car to get to work",
    )


@given(
    phrase("{lender:Name} has lent EUR {amount:Amount} at {rate:Amount}% to {name:Name}'s listing")
)
def _has_lent(story, session, lender, amount, rate, name):
    request = _listing_of(session, story, name)
    ordering.commit_to_listing(
        session, story.person(lender).id, request.id, amount_minor=amount, rate_bps=rate
    )


@given(
    phrase(
        "{name:Name} has an order of EUR {amount:Amount} for grade {grade} at "
        "{rate:Amount}% or more"
    )
)
def _has_order(story, session, name, amount, grade, rate):
    ordering.place_order(
        session, story.person(name).id, amount_minor=amount, min_rate_bps={grade: rate}
    )


@when("the daily work runs")
def _daily_work(story):
    _tick_until(story, clock.now().date())


@then(phrase("{name:Name}'s listing has expired"))
def _expired(story, session, name):
    request = _listing_of(session, story, name)
    assert request.status == "expired"
    page = _page(story, name, f"/lending/listings/{request.id}").get_data(as_text=True)
    assert 'data-status="expired"' in page


@then(phrase("{name:Name}'s order holds its EUR {amount:Amount} again for other listings"))
def _order_whole_again(story, session, name, amount):
    session.expire_all()
    order = session.scalar(
        select(LenderOrder).where(LenderOrder.lender_id == story.person(name).id)
    )
    assert order.status == "active" and order.remaining_minor == amount
    held = ledger_queries.balances(session, ledger.wallet_code(order.lender_id)).held
    assert held == amount


# --- a loan with a past --------------------------------------------------------------------


@given(
    parsers.re(
        r"(?P<name>[A-Z][a-z]+) has a loan of EUR (?P<amount>\d+\.\d{2}) over (?P<term>\d+) "
        r"months from (?P<lenders>[A-Z][a-z]+(?: and [A-Z][a-z]+)*) at (?P<rate>\d+\.\d{2})%"
    )
)
def _has_loan(story, session, make_user, name, amount, term, lenders, rate):
    whole, cents = amount.split(".")
    minor = int(whole) * 100 + int(cents)
    rate_bps = int(rate.replace(".", ""))
    bo = _person(story, make_user, name, "borrower")
    request = services.request_loan(
        session,
        bo.id,
        amount_minor=minor,
        term_months=int(term),
        max_rate_bps=rate_bps,
        purpose_category="car",
        purpose_text="A used car to get to work",
    )
    names = _names(lenders)
    shares = [minor // len(names)] * len(names)
    shares[-1] += minor - sum(shares)
    for lender_name, share in zip(names, shares, strict=True):
        lender = _person(story, make_user, lender_name, "lender")
        deposit(session, lender.id, share, memo="Card deposit")
        ordering.commit_to_listing(
            session, lender.id, request.id, amount_minor=share, rate_bps=rate_bps
        )
    assert _loan_of(session, story, name) is not None


@given(phrase("{name:Name} has spent the money of the loan"))
def _spent(story, session, name):
    user = story.person(name)
    available = ledger_queries.balances(session, ledger.wallet_code(user.id)).available
    spend(session, user.id, available, key=f"bdd:spent:{user.id}", memo="Paid out to the bank")


@when(phrase("the first instalment falls due and {days:d} more days pass with the daily work run"))
def _first_due_and_more(story, session, days):
    loan = session.scalar(select(Loan))
    first = session.scalar(
        select(Instalment).where(Instalment.loan_id == loan.id, Instalment.number == 1)
    )
    _tick_until(story, first.due_on + timedelta(days=days))


@then(phrase("{name:Name}'s loan is late, {days:d} days past due, in the {bucket} day bucket"))
def _is_late(story, session, name, days, bucket):
    loan = _loan_of(session, story, name)
    assert loan.status == "late"
    page = _page(story, name, f"/lending/loans/{loan.id}").get_data(as_text=True)
    assert f'data-arrears="{bucket}"' in page
    assert f"{days} days past due" in page


@then(phrase("the first instalment owes a late fee of EUR {fee:Amount}"))
def _late_fee(session, fee):
    first = session.scalar(select(Instalment).where(Instalment.number == 1))
    assert first.late_fee_minor == fee


@when(phrase("{name:Name} pays now from the loan page"))
def _pays_now(story, session, name):
    loan = _loan_of(session, story, name)
    _page(story, name, f"/lending/loans/{loan.id}")
    response = story.browser(name).submit(
        f"/lending/loans/{loan.id}", {}, action=f"/lending/loans/{loan.id}/pay"
    )
    assert response.status_code == 302, response.get_data(as_text=True)


@then("the payment went to the late fee first, then the interest, then the principal")
def _allocation(session):
    session.expire_all()
    first, second = session.scalars(
        select(Instalment).where(Instalment.number.in_([1, 2])).order_by(Instalment.number)
    ).all()
    assert first.late_fee_paid_minor == first.late_fee_minor > 0
    assert first.interest_paid_minor == first.interest_minor
    assert first.principal_paid_minor == first.principal_minor
    assert first.status == "paid"
    repayment = session.scalar(select(Repayment).order_by(Repayment.id.desc()))
    assert repayment.late_fee_minor == first.late_fee_minor


@then(phrase("{name:Name}'s loan is active again"))
def _active_again(story, session, name):
    assert _loan_of(session, story, name).status == "active"


@then(phrase("{name:Name} received the late fee in full"))
def _late_fee_to_lender(story, session, name):
    shares = session.scalars(
        select(RepaymentShare).where(RepaymentShare.lender_id == story.person(name).id)
    ).all()
    fee = session.scalar(select(Instalment.late_fee_minor).where(Instalment.number == 1))
    assert sum(s.late_fee_minor for s in shares) == fee


# --- default -------------------------------------------------------------------------------


@then(phrase("{name:Name}'s loan is defaulted"))
def _defaulted(story, session, name):
    loan = _loan_of(session, story, name)
    assert loan.status == "defaulted"
    page = _page(story, name, f"/lending/loans/{loan.id}").get_data(as_text=True)
    assert 'data-status="defaulted"' in page


@then(phrase("{name:Name} sees EUR {amount:Amount} written off on her lending page"))
@then(phrase("{name:Name} sees EUR {amount:Amount} written off on his lending page"))
def _sees_written_off(story, name, amount):
    page = _page(story, name, "/lending/lend").get_data(as_text=True)
    assert f"Written off: {shown_money(story, amount)}" in page


@then("the ledger holds one write-off entry for the loan")
def _write_off_entry(session):
    loan = session.scalar(select(Loan))
    entries = session.scalars(
        select(JournalEntry).where(JournalEntry.kind == "loan_write_off")
    ).all()
    assert len(entries) == 1 and entries[0].ref_id == loan.id


@then(phrase("{first:Name} and {second:Name} each recovered EUR {amount:Amount} before fees"))
def _recovered(story, session, first, second, amount):
    for name in (first, second):
        shares = session.scalars(
            select(RepaymentShare).where(RepaymentShare.lender_id == story.person(name).id)
        ).all()
        assert sum(s.recovery_minor for s in shares) == amount


# --- early repayment -----------------------------------------------------------------------


@when(phrase("{name:Name} repays the whole loan early from the loan page"))
def _repays_early(story, session, name):
    loan = _loan_of(session, story, name)
    quote = _page(story, name, f"/lending/loans/{loan.id}/early")
    assert "You pay" in quote.get_data(as_text=True)
    response = story.browser(name).submit(
        f"/lending/loans/{loan.id}/early",
        {"principal": ""},
        action=f"/lending/loans/{loan.id}/early",
    )
    assert response.status_code == 302, response.get_data(as_text=True)


@then(
    phrase("{name:Name} paid EUR {amount:Amount} of principal and interest for {days:d} days only")
)
def _paid_early(story, session, name, amount, days):
    loan = _loan_of(session, story, name)
    repayment = session.scalar(select(Repayment).where(Repayment.loan_id == loan.id))
    assert repayment.kind == "early" and repayment.principal_minor == amount
    first_due = session.scalar(
        select(Instalment.due_on).where(Instalment.loan_id == loan.id, Instalment.number == 1)
    )
    period = (first_due - loan.issued_on).days
    exact = Fraction(amount * loan.rate_bps * days, 12 * 10_000 * period)
    assert abs(repayment.interest_minor - exact) <= 1  # rounded per lender, half up


@then(phrase("{name:Name} has nothing lent out any more"))
def _nothing_lent(story, name):
    page = _page(story, name, "/lending/lend").get_data(as_text=True)
    assert re.search(r"data-lent>([^<]*)<", page).group(1) == shown_money(story, 0)
