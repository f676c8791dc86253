"""Money in and out of wallets for tests, booked the way real payments are booked: from or
to the gateway clearing account. One deposit helper for every domain's tests."""

from __future__ import annotations

import itertools

from p2pbank.ledger import queries as ledger_queries
from p2pbank.ledger import services as ledger
from p2pbank.ledger.checks import check_ledger

CLEARING = ledger.PLATFORM_GATEWAY_CLEARING
_keys = itertools.count(1)


def clearing_for(session, currency: str = "EUR") -> str:
    """The gateway clearing account of a currency (other currencies get their own)."""
    if currency == "EUR":
        ledger.ensure_platform_account(session, CLEARING, currency)
        return CLEARING
    code = f"{CLEARING}:{currency}"
    ledger.ensure_account(session, code, type="asset", currency=currency)
    return code


def deposit(
    session,
    user_id: int,
    minor: int,
    *,
    currency: str = "EUR",
    key: str | None = None,
    memo: str = "",
    gateway_ref: str | None = None,
    commit: bool = True,
):
    """Money arrives in a wallet as a settled card payment puts it there; returns the
    journal entry. `key` to test idempotency, `commit=False` to leave the unit open."""
    clearing = clearing_for(session, currency)
    ledger.ensure_wallet(session, user_id, currency)
    entry = ledger.post_entry(
        session,
        postings=[(clearing, -minor), (ledger.wallet_code(user_id, currency), minor)],
        currency=currency,
        kind="deposit",
        idempotency_key=key or f"test-deposit:{user_id}:{next(_keys)}",
        memo=memo,
        gateway_ref=gateway_ref,
    )
    if commit:
        session.commit()
    return entry


def spend(session, user_id: int, minor: int, *, key: str | None = None, memo: str = "") -> None:
    """Money leaves a wallet as a payout takes it."""
    ledger.post_entry(
        session,
        postings=[(ledger.wallet_code(user_id), -minor), (CLEARING, minor)],
        kind="withdrawal",
        idempotency_key=key or f"test-withdrawal:{user_id}:{next(_keys)}",
        memo=memo,
    )
    session.commit()


def wallet(session, user_id: int) -> tuple:
    """(posted, held, available, currency) of the user's EUR wallet."""
    return tuple(ledger_queries.balances(session, ledger.wallet_code(user_id)))


def balance(session, code: str) -> tuple[int, int]:
    """(posted, held) of an account, (0, 0) while it does not exist."""
    account = ledger.find_account(session, code)
    if account is None:
        return (0, 0)
    session.refresh(account)
    return account.posted_minor, account.held_minor


def posted_held(session, user_id: int, currency: str = "EUR") -> tuple[int, int]:
    """(posted, held) of the user's wallet in that currency."""
    return balance(session, ledger.wallet_code(user_id, currency))


def account(session, code: str) -> int:
    """The posted balance of an account, 0 while it does not exist."""
    if ledger.find_account(session, code) is None:
        return 0
    return ledger_queries.balances(session, code).posted


def assert_books_balance(session) -> None:
    """The ledger's own check finds nothing wrong."""
    report = check_ledger(session)
    assert report.ok, report.violations
