"""Demo: the lending marketplace's recent history, seen from its people: loans issued,
repaid, late and open, orders and listings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.demo.people import DEMO_PEOPLE, demo_password
from p2pbank.identity import services as identity
from p2pbank.identity.models import User
from p2pbank.ledger import services as ledger
from p2pbank.lending import due as lending_due
from p2pbank.lending import ordering
from p2pbank.money import Money

DEMO_LENDING_PEOPLE = [
    ("liv@demo.p2pbank.test", "Liv Lender", ["lender"], 800_000),
    ("max@demo.p2pbank.test", "Max Lender", ["lender"], 600_000),
    ("nia@demo.p2pbank.test", "Nia Lender", ["lender"], 400_000),
    ("cleo@demo.p2pbank.test", "Cleo Borrower", ["borrower"], 0),
    ("dan@demo.p2pbank.test", "Dan Borrower", ["borrower"], 0),
    ("eve@demo.p2pbank.test", "Eve Borrower", ["borrower"], 0),
    ("finn@demo.p2pbank.test", "Finn Borrower", ["borrower"], 0),
]
LENDING_HISTORY_DAYS = 150


def demo_deposit(session: Session, user_id: int, minor: int, key: str) -> None:
    ledger.ensure_wallet(session, user_id)
    ledger.transfer(
        session,
        from_code=ledger.PLATFORM_GATEWAY_CLEARING,
        to_code=ledger.wallet_code(user_id),
        amount=Money(minor),
        kind="deposit",
        idempotency_key=f"demo:lending-deposit:{key}",
        memo="Deposit (demo data)",
    )
    session.commit()


def demo_withdraw(session: Session, user_id: int, minor: int, key: str) -> None:
    ledger.transfer(
        session,
        from_code=ledger.wallet_code(user_id),
        to_code=ledger.PLATFORM_GATEWAY_CLEARING,
        amount=Money(minor),
        kind="withdrawal",
        idempotency_key=f"demo:lending-withdrawal:{key}",
        memo="Paid out to the bank (demo data)",
    )
    session.commit()


def demo_request(session: Session, user_id: int, amount: int, term: int, rate: int, text: str):
    from p2pbank.lending import services as lending

    return lending.request_loan(
        session,
        user_id,
        amount_minor=amount,
        term_months=term,
        max_rate_bps=rate,
        purpose_category="other" if "course" not in text else "education",
        purpose_text=text,
        idempotency_key=f"demo:{user_id}:{amount}:{term}",
    )


def seed_lending(session: Session) -> Iterator[str]:
    """Lending with a past: funded loans with instalments repaid (one borrower late),
    listings open on the marketplace, auto-invest orders still active."""
    today = clock.now()
    start = today - timedelta(days=LENDING_HISTORY_DAYS)
    with clock.frozen_at(start):
        people = _lending_people(session)
        _orders_then_loans(session, people)
        day = _run_days(session, start, today - timedelta(days=5))
        # Cheaper than any order takes: open on the marketplace, funded in part by hand.
        finn = demo_request(
            session,
            people["Finn"].id,
            180_000,
            18,
            850,
            "Stock for a market stall selling second-hand books",
        )
        ordering.commit_to_listing(
            session,
            people["Max"].id,
            finn.id,
            amount_minor=60_000,
            rate_bps=850,
            idempotency_key="demo:commit:Max",
        )
        _run_days(session, day, today)
    _todays_market(session)
    yield "lending: loans with history (Cleo and Eve on time, Dan late), open listings,"
    yield "  active auto-invest orders (Liv, Max, Nia, Lena); lenders' returns on /lending/lend"


def _lending_people(session: Session) -> dict[str, User]:
    people: dict[str, User] = {}
    for email, name, roles, money in DEMO_LENDING_PEOPLE:
        user = identity.sign_up(
            session, email=email, display_name=name, password=demo_password(email), roles=roles
        )
        identity.set_kyc_status(session, None, user.id, "pending", "demo data")
        identity.set_kyc_status(session, None, user.id, "verified", "demo data")
        if money:
            demo_deposit(session, user.id, money, email)
        people[name.split()[0]] = user
    return people


def _orders_then_loans(session: Session, people: dict[str, User]) -> None:
    """Auto-invest orders placed first; the listings that follow are matched at once."""
    for name, amount, rates, reinvest in (
        ("Liv", 600_000, {"C": 800, "D": 900}, True),
        ("Max", 400_000, {"C": 700, "D": 1_000, "E": 1_500}, False),
        ("Nia", 300_000, {"D": 1_100}, True),
    ):
        ordering.place_order(
            session,
            people[name].id,
            amount_minor=amount,
            min_rate_bps=rates,
            max_per_borrower_minor=80_000,
            slice_minor=5_000,
            reinvest=reinvest,
            idempotency_key=f"demo:order:{name}",
        )
    loans = (
        ("Cleo", 150_000, 12, 1_300, "A second-hand van for my flower stall", 150_000),
        ("Dan", 200_000, 24, 1_400, "New windows before the winter", 20_000),
        ("Eve", 100_000, 6, 1_200, "An evening course in bookkeeping", 120_000),
    )
    for name, amount, term, rate, text, savings in loans:
        request = demo_request(session, people[name].id, amount, term, rate, text)
        # The borrower spends the loan, and sets money aside for the instalments (Dan
        # too little: he falls behind).
        paid_out = amount - amount * request.origination_fee_bps // 10_000
        demo_withdraw(session, people[name].id, paid_out, f"{name}:spends-the-loan")
        demo_deposit(session, people[name].id, savings, f"{name}:savings")


def _run_days(session: Session, day: datetime, until: datetime) -> datetime:
    """The daily job, day by day up to `until`; returns the last day run."""
    while day < until:
        day = min(day + timedelta(days=1), until)
        clock.set_now(day)
        lending_due.run_due_lending(session, day)
    return day


def _todays_market(session: Session) -> None:
    """Today: more listings and an active order from the first demo people."""
    by_email = {email: identity.find_user_by_email(session, email) for email, *_ in DEMO_PEOPLE}
    bo = by_email["bo@demo.p2pbank.test"]
    bea = by_email["bea@demo.p2pbank.test"]
    lena = by_email["lena@demo.p2pbank.test"]
    lars = by_email["lars@demo.p2pbank.test"]
    if not (bo and bea and lena and lars):
        return
    listed = demo_request(session, bo.id, 120_000, 12, 800, "Repairing the roof of my workshop")
    demo_request(session, bea.id, 80_000, 6, 880, "A laptop for my design studies")
    ordering.place_order(
        session,
        lena.id,
        amount_minor=200_000,
        min_rate_bps={"C": 800, "D": 850},
        max_per_borrower_minor=20_000,
        slice_minor=2_500,
        reinvest=True,
        idempotency_key="demo:order:Lena",
    )
    ordering.commit_to_listing(
        session,
        lars.id,
        listed.id,
        amount_minor=15_000,
        rate_bps=750,
        idempotency_key="demo:commit:Lars",
    )
