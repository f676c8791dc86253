"""Buying on the secondary market from a book of 100,000 parts for sale, beside a book of
100 in the same run, on PostgreSQL.

Both books hold the same real offers: one real loan with its parts, funded and offered by
real lenders through the services, and bought by real buyers through `resale.services.buy`
(quote, lock, one exact ledger entry). The large book adds 100,000 listed offers of filler
parts of a second real loan; those filler rows are written with COPY while foreign-key
triggers are off (`session_replication_role = replica`, this benchmark's database only),
since building 100,000 loans through the services would take hours and the buy touches
only the offer it buys. What is printed, for each book: the first page of the market list
(50 newest offers, with badges), a filtered page (grade and minimum rate) and buys per
second, then the ratio large/small: a ratio near 1 means the book's size costs nothing.

    python benchmarks/resale_buy.py [--book 100000] [--buys 40]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text  # noqa: E402

from p2pbank.audit.keys import derive_pseudonym_key, session_info  # noqa: E402
from p2pbank.bulk_insert import insert_rows  # noqa: E402
from p2pbank.db import Base, make_engine, make_sessionmaker  # noqa: E402
from p2pbank.identity import passwords  # noqa: E402
from p2pbank.identity import services as identity  # noqa: E402
from p2pbank.identity.models import User  # noqa: E402
from p2pbank.ledger import services as ledger  # noqa: E402
from p2pbank.lending import ordering  # noqa: E402
from p2pbank.lending import services as lending  # noqa: E402
from p2pbank.lending.models import Loan, LoanPart  # noqa: E402
from p2pbank.models import load_all  # noqa: E402
from p2pbank.resale import read, services  # noqa: E402
from p2pbank.resale.models import ResaleOffer  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct horse battery staple 42"  # noqa: S105 (benchmark members only)


def _person(session, n: int, who: str, money: int = 0, role: str = "lender") -> int:
    user = identity.sign_up(
        session,
        email=f"{who}{n}@bench.example",
        display_name=f"{who.title()} {n}",
        password=PASSWORD,
        roles=[role],
    )
    identity.set_kyc_status(session, None, user.id, "pending", "bench")
    identity.set_kyc_status(session, None, user.id, "verified", "bench")
    if money:
        clearing = ledger.PLATFORM_GATEWAY_CLEARING
        ledger.ensure_platform_account(session, clearing)
        ledger.ensure_wallet(session, user.id)
        ledger.post_entry(
            session,
            postings=[(clearing, -money), (ledger.wallet_code(user.id), money)],
            kind="deposit",
            idempotency_key=f"bench-deposit:{user.id}",
        )
        session.commit()
    return user.id


def _funded_loan(session, tag: str, lenders: list[int]) -> Loan:
    """One loan within a first borrower's cap (2,000.00), an equal part for each lender,
    funded by hand."""
    share = 200_000 // len(lenders) // 100 * 100
    borrower = _person(session, len(lenders), f"borrower{tag}", role="borrower")
    request = lending.request_loan(
        session,
        borrower,
        amount_minor=share * len(lenders),
        term_months=24,
        max_rate_bps=1_400,
        purpose_category="car",
        purpose_text="A used car to get to work",
    )
    for lender_id in lenders:
        ordering.commit_to_listing(
            session, lender_id, request.id, amount_minor=share, rate_bps=1_200
        )
    return session.scalar(select(Loan).where(Loan.request_id == request.id))


def _fill_book(session, loan: Loan, count: int) -> None:
    """`count` listed offers of filler parts of `loan` (see the module docstring)."""
    template = session.scalar(select(LoanPart).where(LoanPart.loan_id == loan.id))
    session.execute(text("SET LOCAL session_replication_role = replica"))
    base = 10**9
    parts = [
        {
            "id": base + i,
            "loan_id": loan.id,
            "lender_id": template.lender_id,
            "commitment_id": base + i,
            "order_id": None,
            "principal_minor": 100_000,
            "rate_bps": 1_000 + i % 900,
            "outstanding_minor": 100_000,
            "written_off_minor": 0,
            "recovered_minor": 0,
        }
        for i in range(count)
    ]
    insert_rows(session, LoanPart.__table__, parts)
    offers = [
        {
            "part_id": base + i,
            "loan_id": loan.id,
            "seller_id": template.lender_id,
            "grade": "ABCDE"[i % 5],
            "rate_bps": 1_000 + i % 900,
            "currency": "EUR",
            "premium_bps": -(i % 2_000),
            "status": "listed",
            "idempotency_key": f"filler-{i}",
            "created_at": loan.issued_at,
            "closed_at": None,
            "close_reason": "",
        }
        for i in range(count)
    ]
    insert_rows(session, ResaleOffer.__table__, offers)
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()


def _timed(call, repeat: int) -> float:
    """Median seconds of `call()` over `repeat` runs (after one warm-up)."""
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _run(url: str, book: int, buys: int) -> dict[str, float]:
    load_all()
    engine = make_engine(url, pool_size=2, max_overflow=0)
    Base.metadata.create_all(engine)
    maker = make_sessionmaker(engine)
    maker.configure(info=session_info(derive_pseudonym_key("benchmark-only-secret")))
    session = maker()
    sellers = [_person(session, n, "seller", 100_000) for n in range(buys)]
    buyers = [_person(session, n, "buyer", 200_000) for n in range(buys)]
    loan = _funded_loan(session, "real", sellers)
    real = []
    for seller in sellers:
        part = session.scalar(
            select(LoanPart).where(LoanPart.loan_id == loan.id, LoanPart.lender_id == seller)
        )
        real.append(services.offer_part(session, seller, part.id, premium_bps=-100))
    if book:
        filler_lender = _person(session, 0, "filler", 300_000)
        _fill_book(session, _funded_loan(session, "filler", [filler_lender]), book)
    total = session.scalar(select(text("count(*)")).select_from(ResaleOffer.__table__))
    found = {"offers": float(total)}
    found["page_s"] = _timed(lambda: read.market(session, buyers[0]), 10)
    found["filtered_s"] = _timed(
        lambda: read.market(session, buyers[0], grade=["B"], min_rate_bps=1_500), 10
    )
    started = time.perf_counter()
    for offer, buyer in zip(real, buyers, strict=True):
        quote = read.quote_offer(session, session.get(User, buyer), offer.id).quote
        services.buy(
            session,
            buyer,
            offer.id,
            expected_total_minor=quote.total_minor,
            idempotency_key=f"bench-buy-{offer.id}",
        )
    found["buys_per_s"] = len(real) / (time.perf_counter() - started)
    session.close()
    engine.dispose()
    return found


def _fresh_database(admin_url: str) -> tuple[str, str]:
    name = f"p2pbank_bench_resale_{secrets.token_hex(4)}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


def _drop_database(admin_url: str, name: str) -> None:
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=int, default=100_000, help="filler offers (large book)")
    parser.add_argument("--small", type=int, default=100, help="filler offers (small book)")
    parser.add_argument("--buys", type=int, default=40, help="real offers bought per book")
    parser.add_argument("--postgres", default=DEFAULT_PG)
    args = parser.parse_args()
    passwords.set_cost(passwords.TEST_COST)  # members are made, not signed in
    results = {}
    for label, size in (("small book", args.small), ("large book", args.book)):
        name, url = _fresh_database(args.postgres)
        try:
            results[label] = _run(url, size, args.buys)
        finally:
            _drop_database(args.postgres, name)
    print(f"{'':12} {'offers':>9} {'page 1 ms':>10} {'filtered ms':>12} {'buys/s':>8}")
    for label, r in results.items():
        print(
            f"{label:12} {int(r['offers']):>9,} {r['page_s'] * 1000:>10.1f} "
            f"{r['filtered_s'] * 1000:>12.1f} {r['buys_per_s']:>8.1f}"
        )
    small, large = results["small book"], results["large book"]
    print(
        f"ratio large/small: page 1 time {large['page_s'] / small['page_s']:.2f}x, filtered "
        f"page time {large['filtered_s'] / small['filtered_s']:.2f}x, buys per second "
        f"{large['buys_per_s'] / small['buys_per_s']:.2f}x (goal: near 1 for all three)"
    )


if __name__ == "__main__":
    main()
