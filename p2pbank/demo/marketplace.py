"""Demo: a marketplace with a past, seen from the demo lender (Lena).

Borrowers with a year of history here, so listings carry every grade from A to E; the
demo lender's parts in every state (repaid, current, late, defaulted, one for sale on
the secondary market) with income and returns to show; listings with questions answered
and waiting. Everything goes through the real services, with the clock moved back; the
daily job is run only on the days something can happen (due dates, the late and default
thresholds, and once a week), which keeps seeding quick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.identity import services as identity
from p2pbank.lending import due as lending
from p2pbank.lending import ordering
from p2pbank.lending.models import Instalment, InstalmentStatus, Loan, LoanPart, LoanRequest

HISTORY_DAYS = 560  # the first loans of the demo's history were issued this long ago
PEOPLE_SINCE_DAYS = 590  # the first demo members joined this long ago
RECENT_DAYS = 151  # the second loans: just before the lending demo's own history starts
BORROWERS = [
    ("ana@demo.p2pbank.test", "Ana Borrower"),
    ("ben@demo.p2pbank.test", "Ben Borrower"),
    ("cai@demo.p2pbank.test", "Cai Borrower"),
    ("gus@demo.p2pbank.test", "Gus Borrower"),
    ("hal@demo.p2pbank.test", "Hal Borrower"),
]


def _day(moment: datetime) -> datetime:
    clock.set_now(moment)
    return moment


def _visit_days(session: Session, start: datetime, until: datetime) -> list[datetime]:
    """Due dates of unpaid instalments, the late (16 days) and default (120 days) marks
    after them, and one day a week: the only days the daily job has work."""
    days = {start + timedelta(days=n) for n in range(7, (until - start).days + 1, 7)}
    due = session.scalars(
        select(Instalment.due_on).where(Instalment.status == InstalmentStatus.SCHEDULED)
    )
    for on in due:
        for extra in (0, 16, 120):
            moment = datetime(on.year, on.month, on.day, 6, tzinfo=start.tzinfo)
            moment += timedelta(days=extra)
            if start < moment <= until:
                days.add(moment)
    days.add(until)
    return sorted(days)


def _advance(session: Session, until: datetime) -> None:
    """Run the daily job on the days that matter, up to `until`."""
    for moment in _visit_days(session, clock.now(), until):
        lending.run_due_lending(session, _day(moment))


def _borrow(session: Session, who, amount: int, term: int, rate: int, text: str):
    from p2pbank.demo.lending import demo_request

    request = demo_request(session, who.id, amount, term, rate, text)
    return request


def _fund(session: Session, request: LoanRequest, shares: list[tuple[object, int, int]]):
    """Lenders fill the listing by hand: (lender, amount, rate)."""
    for lender, amount, rate in shares:
        ordering.commit_to_listing(
            session,
            lender.id,
            request.id,
            amount_minor=amount,
            rate_bps=rate,
            idempotency_key=f"demo:history:{request.id}:{lender.id}",
        )


def _people(session: Session, *, create: bool = True) -> dict[str, object]:
    """The history's borrowers (joined months ago) and the two first demo lenders."""
    from p2pbank.demo.people import demo_password

    found = {}
    for email, name in BORROWERS if create else ():
        user = identity.sign_up(
            session,
            email=email,
            display_name=name,
            password=demo_password(email),
            roles=["borrower"],
        )
        identity.set_kyc_status(session, None, user.id, "pending", "demo data")
        identity.set_kyc_status(session, None, user.id, "verified", "demo data")
        found[name.split()[0]] = user
    emails = ["lena@demo.p2pbank.test", "lars@demo.p2pbank.test"]
    for email in emails + ([] if create else [e for e, _n in BORROWERS]):
        user = identity.find_user_by_email(session, email)
        assert user is not None
        found[user.display_name.split()[0]] = user
    return found


def _cash(session: Session, who, minor: int, key: str) -> None:
    from p2pbank.demo.lending import demo_deposit, demo_withdraw

    if minor > 0:
        demo_deposit(session, who.id, minor, f"history:{key}")
    elif minor < 0:
        demo_withdraw(session, who.id, -minor, f"history:{key}")


def _spend_all(session: Session, who, key: str) -> None:
    from p2pbank.lending.servicing import available

    _cash(session, who, -available(session, who.id), key)


def _first_year(session: Session, p: dict, t0: datetime) -> list[tuple[datetime, Callable]]:
    """The first loans: Ana pays on time, Ben once 20 days late, Cai twice, Gus never (he
    defaults, then pays the debt back), each funded by Lena and Lars."""
    texts = {
        "Ana": "Tools for my bicycle repair shop",
        "Ben": "A used delivery scooter",
        "Cai": "Sewing machines for my workshop",
        "Gus": "Paying off an old car loan",
    }
    later: list[tuple[datetime, Callable]] = []
    for name, amount, term in (("Ana", 60_000, 12), ("Ben", 50_000, 6), ("Cai", 50_000, 6)):
        request = _borrow(session, p[name], amount, term, 800, texts[name])
        _fund(session, request, [(p["Lena"], amount // 2, 750), (p["Lars"], amount // 2, 800)])
        _cash(session, p[name], 10_000, f"{name}-savings")
    _day(t0 + timedelta(days=30))
    gus = _borrow(session, p["Gus"], 50_000, 12, 800, texts["Gus"])
    _fund(session, gus, [(p["Lena"], 25_000, 800), (p["Lars"], 25_000, 800)])
    _spend_all(session, p["Gus"], "gus-spends")
    months = {"Ben": (3,), "Cai": (2, 4)}
    for name, late in months.items():
        for n in late:
            due = t0 + timedelta(days=30 * n - 3)
            later.append((due, lambda s, w=p[name], k=f"{name}-{n}": _spend_all(s, w, k)))
            later.append(
                (
                    due + timedelta(days=25),
                    lambda s, w=p[name], k=f"{name}-{n}": _cash(s, w, 45_000, k),
                )
            )
    later.append((t0 + timedelta(days=240), lambda s: _cash(s, p["Gus"], 60_000, "gus-pays-back")))
    return later


def _lenas_part_of(session: Session, p: dict) -> LoanPart:
    """Lena's part of Ben's running loan."""
    part = session.scalar(
        select(LoanPart)
        .join(Loan, Loan.id == LoanPart.loan_id)
        .where(
            Loan.borrower_id == p["Ben"].id,
            Loan.status == "active",
            LoanPart.lender_id == p["Lena"].id,
        )
    )
    assert part is not None
    return part


def _recent_loans(session: Session, p: dict) -> None:
    """Ana (now A) and Ben (now B) borrow again; Hal, new here, pays three instalments
    and then stops (late by today)."""
    ana = _borrow(session, p["Ana"], 80_000, 12, 700, "A second workbench and stock")
    _fund(session, ana, [(p["Lena"], 40_000, 650), (p["Lars"], 40_000, 700)])
    ben = _borrow(session, p["Ben"], 60_000, 12, 780, "A cargo bike for deliveries")
    _fund(session, ben, [(p["Lena"], 30_000, 760), (p["Lars"], 30_000, 780)])
    hal = _borrow(session, p["Hal"], 50_000, 12, 800, "Kitchen equipment for catering")
    _fund(session, hal, [(p["Lena"], 25_000, 800), (p["Lars"], 25_000, 800)])
    _spend_all(session, p["Hal"], "hal-spends")
    _cash(session, p["Hal"], 13_100, "hal-keeps-three-instalments")
    for name in ("Ana", "Ben"):
        _cash(session, p[name], 15_000, f"{name}-savings-2")


def _today(session: Session, p: dict, part: LoanPart, today: datetime) -> None:
    """Listings open today: Cai (C) with one question answered and one waiting, Gus (E,
    after his default); and Lena's part of Ben's loan on the secondary market."""
    from p2pbank.questions import services as questions
    from p2pbank.resale import services as resale

    _day(today - timedelta(days=2))
    cai = _borrow(session, p["Cai"], 60_000, 12, 650, "A bigger cutting table and fabric")
    _borrow(session, p["Gus"], 50_000, 6, 1_400, "A fresh start: a used laptop for work")
    _day(today - timedelta(days=1, hours=20))
    asked = questions.ask(
        session, p["Lars"].id, "listing", cai.id, body="How many orders do you have lined up?"
    )
    _day(today - timedelta(days=1, hours=17))
    questions.answer(session, p["Cai"].id, asked.id, body="Twelve shops order every month.")
    _day(today - timedelta(hours=30))
    questions.ask(
        session, p["Lena"].id, "listing", cai.id, body="Will the new table double your output?"
    )
    _day(today)
    resale.offer_part(
        session, p["Lena"].id, part.id, premium_bps=-100, idempotency_key="demo:resale:lena"
    )


def seed_history(session: Session) -> Iterator[str]:
    """Before the lending demo's own history: a year and a half of loans for the demo
    lender, ending with the loans that are still running (see the module docstring)."""
    today = clock.now()
    t0 = today - timedelta(days=HISTORY_DAYS)
    with clock.frozen_at(t0 - timedelta(days=5)):
        p = _people(session)
        _day(t0)
        for who in ("Lena", "Lars"):
            _cash(session, p[who], 200_000, f"{who}-history")
        later = _first_year(session, p, t0)
        for moment, action in sorted(later, key=lambda pair: pair[0]):
            _advance(session, moment)
            action(session)
        _advance(session, today - timedelta(days=RECENT_DAYS))
        _recent_loans(session, p)
    yield "marketplace history: Ana, Ben, Cai and Gus borrowed from Lena and Lars a year ago"


def seed_marketplace(session: Session) -> Iterator[str]:
    """Today's side of the history: listings of every grade, questions, a part for sale."""
    today = clock.now()
    p = _people(session, create=False)
    part = _lenas_part_of(session, p)
    with clock.frozen_at(today):
        _today(session, p, part, today)
    yield "marketplace: listings of every grade (Ana's A and Ben's B loans run; Cai C, Finn D,"
    yield "  Gus E after a default); Lena holds parts repaid, current, late (Hal), defaulted"
    yield "  (Gus) and one for sale on /resale/; Cai's listing has questions answered and waiting"
