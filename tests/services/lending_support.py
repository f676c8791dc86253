"""Helpers for the lending tests: people with money, a listing, an order, the books."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select

from p2pbank.db import Base
from p2pbank.ledger import queries as ledger_queries
from p2pbank.ledger import services as ledger
from p2pbank.ledger.checks import check_ledger
from p2pbank.lending import ordering, services
from p2pbank.models import load_all

CLEARING = ledger.PLATFORM_GATEWAY_CLEARING
_keys = itertools.count(1)

ALL_GRADES = {"A": 0, "B": 0, "C": 0, "D": 0, "E": 0}


def deposit(session, user_id: int, minor: int) -> None:
    """Money arrives in a wallet as a card deposit would put it there."""
    ledger.ensure_platform_account(session, CLEARING)
    ledger.ensure_wallet(session, user_id)
    ledger.post_entry(
        session,
        postings=[(CLEARING, -minor), (ledger.wallet_code(user_id), minor)],
        kind="deposit",
        idempotency_key=f"test-deposit:{user_id}:{next(_keys)}",
    )
    session.commit()


def spend(session, user_id: int, minor: int) -> None:
    """Money leaves a wallet as a payout would take it."""
    ledger.post_entry(
        session,
        postings=[(ledger.wallet_code(user_id), -minor), (CLEARING, minor)],
        kind="withdrawal",
        idempotency_key=f"test-withdrawal:{user_id}:{next(_keys)}",
    )
    session.commit()


def wallet(session, user_id: int) -> tuple[int, int, int]:
    """(posted, held, available) of the user's wallet."""
    return tuple(ledger_queries.balances(session, ledger.wallet_code(user_id)))


def account(session, code: str) -> int:
    if ledger.find_account(session, code) is None:
        return 0
    return ledger_queries.balances(session, code).posted


def borrower(make_user, session, name: str = "Bo", money: int = 0):
    user = make_user(roles=["borrower"], kyc="verified", name=name)
    if money:
        deposit(session, user.id, money)
    return user


def lender(make_user, session, name: str = "Lena", money: int = 1_000_000):
    user = make_user(roles=["lender"], kyc="verified", name=name)
    if money:
        deposit(session, user.id, money)
    return user


def listing(session, user, amount: int = 100_000, term: int = 12, rate: int = 1_200, **kw):
    return services.request_loan(
        session,
        user.id,
        amount_minor=amount,
        term_months=term,
        max_rate_bps=rate,
        purpose_category=kw.pop("purpose_category", "car"),
        purpose_text=kw.pop("purpose_text", "A used car to get to work"),
        **kw,
    )


def order(session, user, amount: int = 50_000, rates=None, **kw):
    return ordering.place_order(
        session,
        user.id,
        amount_minor=amount,
        min_rate_bps=rates if rates is not None else {"D": 800},
        **kw,
    )


def row_counts(session) -> dict[str, int]:
    load_all()
    session.expire_all()
    return {
        t.name: session.scalar(select(func.count()).select_from(t))
        for t in Base.metadata.sorted_tables
    }


def assert_books_balance(session) -> None:
    report = check_ledger(session)
    assert report.ok, report.violations
