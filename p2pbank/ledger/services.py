"""Ledger commands: open accounts, post balanced entries, reverse (holds are in holds.py).

These are primitives: they only flush, so they join the caller's transaction, and the
caller's one commit makes the money movement and its business change atomic. If one of
them raises, nothing it did may be committed: the caller lets the error propagate (or
rolls back).

Sign convention
---------------
A posting is `(account_code, amount_minor)` with a signed integer amount in minor units,
seen from the account's side: **positive = credit = money arrives in the account, negative
= debit = money leaves it**. An account's posted balance is the sum of its postings
(credits minus debits), and the postings of every entry sum to zero. So a deposit of
EUR 25.00 into Lena's wallet is::

    post_entry(session, postings=[("platform:gateway_clearing", -2500),
                                  (wallet_code(lena.id), 2500)],
               kind="deposit", idempotency_key="deposit:pi_123")

User wallets are liabilities of the platform (credit-normal): a positive balance is money
the user owns. Platform assets such as `platform:gateway_clearing` carry a negative
(debit) balance in the normal course. `transfer(from_code, to_code, amount)` is the
two-posting case: `from_code` is debited, `to_code` credited.

Balances per account: posted (sum of postings), held (sum of pending holds), available
(posted - held). Accounts flagged `no_negative` (every user wallet) refuse any debit or
hold that would take their available balance below zero (`InsufficientFunds`).

Idempotency: the same key with the same content returns the original entry (or hold);
the same key with different content raises `Conflict`.

Concurrency: every command locks the accounts it touches (`SELECT ... FOR UPDATE`, in
ascending id order, so two commands never deadlock) before it reads a balance; on SQLite
the engine begins every transaction with BEGIN IMMEDIATE, which serializes writers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from p2pbank.clock import now as clock_now
from p2pbank.errors import (
    Conflict,
    InvalidState,
    NotFound,
)
from p2pbank.ledger.inputs import (
    MAX_MEMO_LENGTH,
    check_code,
    check_currency,
    check_key,
    check_kind,
    check_money,
    check_postings,
    check_ref_id,
    check_text,
    refuse,
)
from p2pbank.ledger.models import (
    Account,
    AccountType,
    EntryKind,
    JournalEntry,
)
from p2pbank.ledger.posting import (
    entry_by_key,
    entry_legs,
    hash_of,
    lock_accounts,
    lock_rows,
    post_locked,
)
from p2pbank.money import Money

PLATFORM_GATEWAY_CLEARING = "platform:gateway_clearing"
PLATFORM_FEES = "platform:fees"
# Well-known platform accounts and their types; open them with ensure_platform_account.
PLATFORM_ACCOUNTS: dict[str, AccountType] = {
    PLATFORM_GATEWAY_CLEARING: AccountType.ASSET,
    PLATFORM_FEES: AccountType.INCOME,
}


# --- accounts -------------------------------------------------------------------------------


def wallet_code(user_id: int, currency: str = "EUR") -> str:
    """`user:{id}:wallet` (EUR) or `user:{id}:wallet:{CUR}` for another currency."""
    if type(user_id) is not int or user_id <= 0:
        raise refuse("user_id must be a positive integer", "user_id")
    check_currency(currency)
    return f"user:{user_id}:wallet" if currency == "EUR" else f"user:{user_id}:wallet:{currency}"


def find_account(session: Session, code: str) -> Account | None:
    return session.scalar(select(Account).where(Account.code == code))


def ensure_account(
    session: Session,
    code: str,
    *,
    type: AccountType | str,
    currency: str = "EUR",
    owner_id: int | None = None,
    no_negative: bool = False,
) -> Account:
    """Get or open the account `code`. Refuses (Conflict) when it exists with another type,
    currency, owner or no-negative flag. Safe under concurrency (INSERT ... ON CONFLICT
    DO NOTHING, then read)."""
    check_code(code)
    check_currency(currency)
    try:
        account_type = AccountType(type)
    except ValueError as exc:
        raise refuse(f"not an account type: {type!r}", "type") from exc
    account = find_account(session, code)
    if account is None:
        values = {
            "code": code,
            "type": account_type.value,
            "currency": currency,
            "owner_id": owner_id,
            "no_negative": bool(no_negative),
            "posted_minor": 0,
            "held_minor": 0,
            "created_at": clock_now(),
        }
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(Account).values(**values).on_conflict_do_nothing())
        account = find_account(session, code)
        assert account is not None
    wanted = (account_type.value, currency, owner_id, bool(no_negative))
    if (account.type, account.currency, account.owner_id, account.no_negative) != wanted:
        raise Conflict(f"account {code} exists with different attributes")
    return account


def ensure_wallet(session: Session, user_id: int, currency: str = "EUR") -> Account:
    """The user's wallet: a liability of the platform that may never go negative."""
    return ensure_account(
        session,
        wallet_code(user_id, currency),
        type=AccountType.LIABILITY,
        currency=currency,
        owner_id=user_id,
        no_negative=True,
    )


def ensure_platform_account(session: Session, code: str, currency: str = "EUR") -> Account:
    """One of PLATFORM_ACCOUNTS (gateway clearing, fees), opened with its agreed type."""
    if code not in PLATFORM_ACCOUNTS:
        raise refuse(f"not a platform account: {code!r}", "account")
    return ensure_account(session, code, type=PLATFORM_ACCOUNTS[code], currency=currency)


def close_account(session: Session, code: str) -> Account:
    """Close an account whose posted and held balances are zero; it takes no more postings."""
    account = lock_accounts(session, [check_code(code)])[code]
    if account.is_closed:
        return account
    if account.posted_minor != 0 or account.held_minor != 0:
        raise InvalidState(f"account {code} still has a balance; it cannot be closed")
    account.closed_at = clock_now()
    session.flush()
    return account


def stored_content_hash(session: Session, entry: JournalEntry) -> str:
    """Recompute an entry's content hash from its stored rows (for checks and replays)."""
    return hash_of(entry, entry_legs(session, entry))


def post_entry(
    session: Session,
    *,
    postings: list[tuple[str, int]],
    currency: str = "EUR",
    kind: str,
    idempotency_key: str,
    ref_type: str | None = None,
    ref_id: int | None = None,
    gateway_ref: str | None = None,
    memo: str = "",
) -> JournalEntry:
    """Post a balanced entry (see the module docstring for the sign convention).

    Refuses, writing nothing: an unbalanced entry, zero or non-integer amounts, an account
    twice, unknown accounts (NotFound), closed accounts (InvalidState), accounts in another
    currency (ValidationFailed), and any debit that would take a no-negative account's
    available balance below zero (InsufficientFunds). Flushes only.
    """
    legs = check_postings(postings)
    return post_locked(
        session,
        legs=legs,
        currency=check_currency(currency),
        kind=check_kind(kind),
        key=check_key(idempotency_key),
        ref_type=check_text(ref_type, "ref_type", 40, optional=True),
        ref_id=check_ref_id(ref_id),
        gateway_ref=check_text(gateway_ref, "gateway_ref", 200, optional=True),
        memo=check_text(memo, "memo", MAX_MEMO_LENGTH, optional=False) or "",
    )


def transfer(
    session: Session,
    *,
    from_code: str,
    to_code: str,
    amount: Money,
    kind: str,
    idempotency_key: str,
    ref_type: str | None = None,
    ref_id: int | None = None,
    memo: str = "",
    gateway_ref: str | None = None,
) -> JournalEntry:
    """Move `amount` from `from_code` (debited) to `to_code` (credited). Flushes only."""
    money = check_money(amount)
    if from_code == to_code:
        raise refuse("a transfer needs two different accounts", "to_code")
    return post_entry(
        session,
        postings=[(from_code, -money.minor), (to_code, money.minor)],
        currency=money.currency,
        kind=kind,
        idempotency_key=idempotency_key,
        ref_type=ref_type,
        ref_id=ref_id,
        gateway_ref=gateway_ref,
        memo=memo,
    )


# --- reversals ------------------------------------------------------------------------------


def reverse_entry(
    session: Session, entry_id: int, *, reason: str, idempotency_key: str
) -> JournalEntry:
    """Undo an entry with a new entry of mirrored postings, linked by reverses_entry_id.
    An entry is reversed at most once, and a reversal is not itself reversed (post a new
    entry instead). A replay with the same key returns the reversal. Flushes only."""
    key = check_key(idempotency_key)
    reason = check_text(reason, "reason", MAX_MEMO_LENGTH, optional=False) or ""
    if not reason.strip():
        raise refuse("give a reason for the reversal", "reason")
    if type(entry_id) is not int:
        raise refuse("entry_id must be an integer", "entry_id")
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise NotFound(f"no such entry: {entry_id}")
    if original.reverses_entry_id is not None:
        raise InvalidState(f"entry {entry_id} is a reversal; post a new entry instead")
    legs = [(code, -amount) for code, amount in entry_legs(session, original)]
    accounts = lock_rows(session, [code for code, _ in legs])

    existing = entry_by_key(session, key)
    if existing is not None:
        if existing.reverses_entry_id != original.id or existing.memo != reason:
            raise Conflict(f"idempotency key {key!r} was used for a different entry")
        return existing
    already = session.scalar(
        select(JournalEntry.id).where(JournalEntry.reverses_entry_id == original.id)
    )
    if already is not None:
        raise InvalidState(f"entry {entry_id} was already reversed by entry {already}")
    return post_locked(
        session,
        legs=legs,
        currency=original.currency,
        kind=EntryKind.REVERSAL.value,
        key=key,
        ref_type=original.ref_type,
        ref_id=original.ref_id,
        gateway_ref=None,
        memo=reason,
        reverses_entry_id=original.id,
        accounts=accounts,
    )
