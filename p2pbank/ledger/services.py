"""Ledger commands: open accounts, post balanced entries, hold/capture/release, reverse.

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
the engine begins every transaction with BEGIN IMMEDIATE, which serializes writers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from p2pbank.audit import queue as audit
from p2pbank.clock import now as clock_now
from p2pbank.errors import (
    Conflict,
    InsufficientFunds,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from p2pbank.ledger.entry_hash import content_hash
from p2pbank.ledger.models import (
    Account,
    AccountType,
    EntryKind,
    Hold,
    HoldStatus,
    JournalEntry,
    Posting,
)
from p2pbank.money import Money

ACCOUNT_CODE = re.compile(r"^[a-z][a-z0-9_]*(?::[A-Za-z0-9_-]+)+$")
KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_CODE_LENGTH = 120
MAX_KEY_LENGTH = 200
MAX_MEMO_LENGTH = 500
MAX_POSTINGS = 100
# Far above any real amount, and below 2**53 so every sum stays exact in canonical JSON.
MAX_AMOUNT_MINOR = 10**15
MAX_REF_ID = 2**53 - 1

PLATFORM_GATEWAY_CLEARING = "platform:gateway_clearing"
PLATFORM_FEES = "platform:fees"
# Well-known platform accounts and their types; open them with ensure_platform_account.
PLATFORM_ACCOUNTS: dict[str, AccountType] = {
    PLATFORM_GATEWAY_CLEARING: AccountType.ASSET,
    PLATFORM_FEES: AccountType.INCOME,
}


# --- input checks ---------------------------------------------------------------------------


def _refuse(message: str, field: str = "_") -> ValidationFailed:
    return ValidationFailed(message, field_errors={field: [message]})


def _check_currency(currency: object) -> str:
    try:
        Money(0, currency)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        message = f"currency must be a three-letter code such as EUR: {exc}"
        raise _refuse(message, "currency") from exc
    return currency  # type: ignore[return-value]


def _check_code(code: object) -> str:
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH or not ACCOUNT_CODE.match(code):
        raise _refuse(f"not an account code: {code!r}", "account")
    return code


def _check_amount(amount: object) -> int:
    if type(amount) is not int:
        raise _refuse(f"amounts are whole minor units (int), not {type(amount).__name__}", "amount")
    if amount == 0:
        raise _refuse("a posting of zero moves no money", "amount")
    if abs(amount) > MAX_AMOUNT_MINOR:
        raise _refuse("the amount is out of range", "amount")
    return amount


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise _refuse("an idempotency key (1-200 characters) is required", "idempotency_key")
    return key


def _check_text(value: object, field: str, limit: int, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise _refuse(f"{field} must be text of at most {limit} characters", field)
    return value


def _check_ref_id(ref_id: object) -> int | None:
    if ref_id is None:
        return None
    if type(ref_id) is not int or not 0 <= ref_id <= MAX_REF_ID:
        raise _refuse("ref_id must be a non-negative integer id", "ref_id")
    return ref_id


def _check_kind(kind: object) -> str:
    if isinstance(kind, EntryKind):
        kind = kind.value
    if not isinstance(kind, str) or not KIND.match(kind):
        raise _refuse(f"not an entry kind: {kind!r}", "kind")
    return kind


def _check_money(amount: object, field: str = "amount") -> Money:
    if not isinstance(amount, Money):
        raise _refuse(f"{field} must be Money, not {type(amount).__name__}", field)
    if not amount.is_positive():
        raise _refuse(f"{field} must be positive", field)
    if amount.minor > MAX_AMOUNT_MINOR:
        raise _refuse("the amount is out of range", field)
    return amount


def _check_postings(postings: object) -> list[tuple[str, int]]:
    if not isinstance(postings, (list, tuple)):
        raise _refuse("postings must be a list of (account code, amount) pairs", "postings")
    if not 2 <= len(postings) <= MAX_POSTINGS:
        raise _refuse(f"an entry has 2 to {MAX_POSTINGS} postings", "postings")
    legs: list[tuple[str, int]] = []
    for item in postings:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise _refuse("each posting is an (account code, amount) pair", "postings")
        legs.append((_check_code(item[0]), _check_amount(item[1])))
    codes = [code for code, _ in legs]
    if len(set(codes)) != len(codes):
        raise _refuse("each account appears at most once in an entry", "postings")
    total = sum(amount for _, amount in legs)
    if total != 0:
        raise _refuse(f"the entry does not balance: its postings sum to {total}", "postings")
    return legs


# --- accounts -------------------------------------------------------------------------------


def wallet_code(user_id: int, currency: str = "EUR") -> str:
    """`user:{id}:wallet` (EUR) or `user:{id}:wallet:{CUR}` for another currency."""
    if type(user_id) is not int or user_id <= 0:
        raise _refuse("user_id must be a positive integer", "user_id")
    _check_currency(currency)
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
    _check_code(code)
    _check_currency(currency)
    try:
        account_type = AccountType(type)
    except ValueError as exc:
        raise _refuse(f"not an account type: {type!r}", "type") from exc
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
        raise _refuse(f"not a platform account: {code!r}", "account")
    return ensure_account(session, code, type=PLATFORM_ACCOUNTS[code], currency=currency)


def close_account(session: Session, code: str) -> Account:
    """Close an account whose posted and held balances are zero; it takes no more postings."""
    account = _lock_accounts(session, [_check_code(code)])[code]
    if account.is_closed:
        return account
    if account.posted_minor != 0 or account.held_minor != 0:
        raise InvalidState(f"account {code} still has a balance; it cannot be closed")
    account.closed_at = clock_now()
    session.flush()
    return account


def _lock_accounts(session: Session, codes: Iterable[str]) -> dict[str, Account]:
    """Load the accounts with a row lock, in ascending id order, with fresh balances."""
    wanted = set(codes)
    stmt = (
        select(Account)
        .where(Account.code.in_(wanted))
        .order_by(Account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    accounts = {account.code: account for account in session.scalars(stmt)}
    missing = sorted(wanted - accounts.keys())
    if missing:
        raise NotFound(f"no such account: {', '.join(missing)}")
    return accounts


@dataclass(frozen=True)
class LockedAccount:
    """An account row as read under its lock, for the posting path (no ORM object)."""

    id: int
    code: str
    currency: str
    no_negative: bool
    posted_minor: int
    held_minor: int
    closed: bool


ACCOUNTS = Account.__table__
ENTRIES = JournalEntry.__table__
POSTINGS = Posting.__table__

# The posting path's statements, built once (only their parameters change per entry).
_LOCK_ROWS = (
    select(
        ACCOUNTS.c.id,
        ACCOUNTS.c.code,
        ACCOUNTS.c.currency,
        ACCOUNTS.c.no_negative,
        ACCOUNTS.c.posted_minor,
        ACCOUNTS.c.held_minor,
        ACCOUNTS.c.closed_at,
    )
    .where(ACCOUNTS.c.code.in_(bindparam("codes", expanding=True)))
    .order_by(ACCOUNTS.c.id)
    .with_for_update()
)
_ENTRY_BY_KEY = select(ENTRIES.c.id, ENTRIES.c.content_hash, ENTRIES.c.created_at).where(
    ENTRIES.c.idempotency_key == bindparam("key")
)
_INSERT_ENTRY = insert(ENTRIES).returning(ENTRIES.c.id)
_INSERT_POSTINGS = insert(POSTINGS)
_UPDATE_BALANCES = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("account_id"))
    .values(posted_minor=bindparam("posted"), held_minor=bindparam("held"))
)


def _lock_rows(session: Session, codes: Iterable[str]) -> dict[str, LockedAccount]:
    """Lock the accounts (ascending id, SELECT ... FOR UPDATE) and read their balances."""
    wanted = set(codes)
    session.flush()  # the caller's pending changes first, so the rows read are current
    rows = session.connection().execute(_LOCK_ROWS, {"codes": sorted(wanted)})
    accounts = {
        row.code: LockedAccount(
            row.id,
            row.code,
            row.currency,
            bool(row.no_negative),
            row.posted_minor,
            row.held_minor,
            row.closed_at is not None,
        )
        for row in rows
    }
    missing = sorted(wanted - accounts.keys())
    if missing:
        raise NotFound(f"no such account: {', '.join(missing)}")
    return accounts


def _lock_hold(session: Session, hold_id: int) -> Hold:
    stmt = (
        select(Hold)
        .where(Hold.id == hold_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    hold_row = session.scalar(stmt)
    if hold_row is None:
        raise NotFound(f"no such hold: {hold_id}")
    return hold_row


def _get_hold(session: Session, hold_id: object) -> Hold:
    if type(hold_id) is not int:
        raise _refuse("hold_id must be an integer", "hold_id")
    hold_row = session.get(Hold, hold_id)
    if hold_row is None:
        raise NotFound(f"no such hold: {hold_id}")
    return hold_row


# --- entries --------------------------------------------------------------------------------


def _entry_by_key(session: Session, key: str) -> JournalEntry | None:
    return session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))


def _entry_legs(session: Session, entry: JournalEntry) -> list[tuple[str, int]]:
    rows = session.execute(
        select(Account.code, Posting.amount_minor)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.entry_id == entry.id)
    )
    return [(code, amount) for code, amount in rows]


def stored_content_hash(session: Session, entry: JournalEntry) -> str:
    """Recompute an entry's content hash from its stored rows (for checks and replays)."""
    return hash_of(entry, _entry_legs(session, entry))


def hash_of(entry: JournalEntry, legs: Sequence[tuple[str, int]]) -> str:
    """The content hash of `entry` with these (account code, amount) postings."""
    return content_hash(
        idempotency_key=entry.idempotency_key,
        kind=entry.kind,
        currency=entry.currency,
        postings=legs,
        ref_type=entry.ref_type,
        ref_id=entry.ref_id,
        gateway_ref=entry.gateway_ref,
        memo=entry.memo,
        reverses_entry_id=entry.reverses_entry_id,
        created_at=entry.created_at,
    )


def _entry_columns(entry: JournalEntry) -> dict:
    return {
        column.key: getattr(entry, column.key) for column in ENTRIES.columns if column.key != "id"
    }


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
    legs = _check_postings(postings)
    return _post(
        session,
        legs=legs,
        currency=_check_currency(currency),
        kind=_check_kind(kind),
        key=_check_key(idempotency_key),
        ref_type=_check_text(ref_type, "ref_type", 40, optional=True),
        ref_id=_check_ref_id(ref_id),
        gateway_ref=_check_text(gateway_ref, "gateway_ref", 200, optional=True),
        memo=_check_text(memo, "memo", MAX_MEMO_LENGTH, optional=False) or "",
    )


def _post(
    session: Session,
    *,
    legs: list[tuple[str, int]],
    currency: str,
    kind: str,
    key: str,
    ref_type: str | None,
    ref_id: int | None,
    gateway_ref: str | None,
    memo: str,
    reverses_entry_id: int | None = None,
    accounts: dict[str, LockedAccount] | None = None,
    release: dict[int, int] | None = None,
) -> JournalEntry:
    """The one place an entry is written. `accounts` may come locked by the caller;
    `release` maps account id -> held amount released in the same step (a capture).

    The hot path of the platform, so it speaks plain SQL (lock, idempotency lookup, entry,
    postings, balances) instead of going through the unit of work, which would cost more
    than the database work itself; any ORM copies of the accounts are then brought in line
    without further SQL, and the entry is handed back as an ORM object."""
    if accounts is None:
        accounts = _lock_rows(session, [code for code, _ in legs])
    release = release or {}
    connection = session.connection()

    entry = JournalEntry(
        idempotency_key=key,
        kind=kind,
        currency=currency,
        memo=memo,
        ref_type=ref_type,
        ref_id=ref_id,
        gateway_ref=gateway_ref,
        reverses_entry_id=reverses_entry_id,
    )
    existing = connection.execute(_ENTRY_BY_KEY, {"key": key}).first()
    if existing is not None:
        entry.created_at = existing.created_at
        if hash_of(entry, legs) != existing.content_hash:
            raise Conflict(f"idempotency key {key!r} was used for a different entry")
        original = session.get(JournalEntry, existing.id)
        assert original is not None
        return original

    for code, amount in legs:
        account = accounts[code]
        if account.closed:
            raise InvalidState(f"account {code} is closed")
        if account.currency != currency:
            raise _refuse(
                f"account {code} holds {account.currency}, the entry is in {currency}",
                "currency",
            )
        if amount < 0 and account.no_negative:
            held = account.held_minor - release.get(account.id, 0)
            if account.posted_minor + amount - held < 0:
                raise InsufficientFunds(f"account {code} has too little available money")

    entry.created_at = clock_now()
    entry.content_hash = hash_of(entry, legs)
    balances = {
        accounts[code].id: [
            accounts[code].posted_minor + amount,
            accounts[code].held_minor - release.get(accounts[code].id, 0),
        ]
        for code, amount in legs
    }
    try:
        entry.id = connection.execute(_INSERT_ENTRY, _entry_columns(entry)).scalar_one()
        connection.execute(
            _INSERT_POSTINGS,
            [
                {
                    "entry_id": entry.id,
                    "account_id": accounts[code].id,
                    "amount_minor": amount,
                    "currency": currency,
                    "balance_after_minor": balances[accounts[code].id][0],
                }
                for code, amount in legs
            ],
        )
        connection.execute(
            _UPDATE_BALANCES,
            [
                {"account_id": account_id, "posted": posted, "held": held}
                for account_id, (posted, held) in balances.items()
            ],
        )
    except IntegrityError as exc:
        # A concurrent command won the same idempotency key (or a constraint refused it).
        raise Conflict("the ledger refused the entry; retry the command") from exc
    for account_id, (posted, held) in balances.items():
        loaded = session.identity_map.get(identity_key(Account, account_id))
        if loaded is not None:
            set_committed_value(loaded, "posted_minor", posted)
            set_committed_value(loaded, "held_minor", held)
    make_transient_to_detached(entry)
    session.add(entry)
    # The entry and its postings are in the database now (not yet committed): the place
    # where every new entry passes exactly once, e.g. for the audit log's Merkle leaf,
    # queued for the sequencer so that postings never wait for each other's leaves.
    audit.enqueue(
        session,
        type="ledger.entry",
        subject_user_id=None,
        payload={"entry_id": entry.id, "kind": entry.kind, "hash": entry.content_hash},
        ref_id=entry.id,
    )
    return entry


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
    money = _check_money(amount)
    if from_code == to_code:
        raise _refuse("a transfer needs two different accounts", "to_code")
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


# --- holds ----------------------------------------------------------------------------------


def hold(
    session: Session,
    *,
    account_code: str,
    amount: Money,
    idempotency_key: str,
    expires_at: datetime | None = None,
    ref_type: str | None = None,
    ref_id: int | None = None,
    memo: str = "",
) -> Hold:
    """Reserve `amount` on the account: available drops, posted does not. Resolve it with
    exactly one of capture_hold, release_hold or expiry (expire_holds). Flushes only."""
    money = _check_money(amount)
    key = _check_key(idempotency_key)
    ref_type = _check_text(ref_type, "ref_type", 40, optional=True)
    ref_id = _check_ref_id(ref_id)
    memo = _check_text(memo, "memo", MAX_MEMO_LENGTH, optional=False) or ""
    if expires_at is not None and (
        not isinstance(expires_at, datetime) or expires_at.tzinfo is None
    ):
        raise _refuse("expires_at must be a timezone-aware datetime", "expires_at")
    account = _lock_accounts(session, [_check_code(account_code)])[account_code]

    existing = session.scalar(select(Hold).where(Hold.idempotency_key == key))
    if existing is not None:
        same = (
            existing.account_id == account.id
            and existing.amount_minor == money.minor
            and existing.currency == money.currency
            and existing.expires_at == expires_at
            and existing.ref_type == ref_type
            and existing.ref_id == ref_id
            and existing.memo == memo
        )
        if not same:
            raise Conflict(f"idempotency key {key!r} was used for a different hold")
        return existing

    if account.is_closed:
        raise InvalidState(f"account {account_code} is closed")
    if account.currency != money.currency:
        raise _refuse(
            f"account {account_code} holds {account.currency}, not {money.currency}", "currency"
        )
    moment = clock_now()
    if expires_at is not None and expires_at <= moment:
        raise _refuse("a hold must expire in the future", "expires_at")
    if account.no_negative and account.available_minor < money.minor:
        raise InsufficientFunds(f"account {account_code} has too little available money")

    account.held_minor += money.minor
    row = Hold(
        account_id=account.id,
        amount_minor=money.minor,
        currency=money.currency,
        status=HoldStatus.PENDING.value,
        idempotency_key=key,
        expires_at=expires_at,
        ref_type=ref_type,
        ref_id=ref_id,
        memo=memo,
        created_at=moment,
    )
    session.add(row)
    session.flush()
    return row


def capture_hold(
    session: Session,
    hold_id: int,
    *,
    to_code: str,
    amount: Money | None = None,
    idempotency_key: str,
    kind: str,
    memo: str = "",
) -> JournalEntry:
    """Capture all of a pending hold (amount None) or part of it; the rest returns to the
    available balance. Posts one entry debiting the held account and crediting `to_code`.
    A hold resolves once: capturing a resolved hold raises InvalidState, except a replay
    with the same key and content, which returns the original entry. Flushes only."""
    key = _check_key(idempotency_key)
    kind = _check_kind(kind)
    memo = _check_text(memo, "memo", MAX_MEMO_LENGTH, optional=False) or ""
    _check_code(to_code)
    held = _get_hold(session, hold_id)
    source = session.get(Account, held.account_id)
    assert source is not None
    if to_code == source.code:
        raise _refuse("a hold cannot be captured into its own account", "to_code")
    accounts = _lock_rows(session, [source.code, to_code])
    held = _lock_hold(session, held.id)

    if amount is None:
        minor = held.amount_minor
    else:
        money = _check_money(amount)
        if money.currency != held.currency:
            raise _refuse(f"the hold is in {held.currency}, not {money.currency}", "amount")
        minor = money.minor
        if minor > held.amount_minor:
            raise _refuse("a capture cannot exceed the amount held", "amount")

    legs = [(source.code, -minor), (to_code, minor)]
    if held.status == HoldStatus.CAPTURED and held.resolution_key == key:
        entry = session.get(JournalEntry, held.capture_entry_id)
        assert entry is not None
        if sorted(_entry_legs(session, entry)) != sorted(legs) or entry.kind != kind:
            raise Conflict(f"idempotency key {key!r} was used for a different capture")
        return entry
    if held.status != HoldStatus.PENDING:
        raise InvalidState(f"hold {held.id} is already {held.status}")
    if held.expires_at is not None and clock_now() >= held.expires_at:
        raise InvalidState(f"hold {held.id} has expired")
    if _entry_by_key(session, key) is not None:
        raise Conflict(f"idempotency key {key!r} was used for a different entry")

    entry = _post(
        session,
        legs=legs,
        currency=held.currency,
        kind=kind,
        key=key,
        ref_type=held.ref_type,
        ref_id=held.ref_id,
        gateway_ref=None,
        memo=memo,
        accounts=accounts,
        release={source.id: held.amount_minor},
    )
    held.move_to(HoldStatus.CAPTURED)
    held.captured_minor = minor
    held.capture_entry_id = entry.id
    held.resolution_key = key
    held.resolved_at = entry.created_at
    session.flush()
    return entry


def release_hold(session: Session, hold_id: int, *, idempotency_key: str) -> Hold:
    """Give a pending hold back to the available balance. A replay with the same key
    returns the hold; any other second resolution raises InvalidState. Flushes only."""
    key = _check_key(idempotency_key)
    held = _get_hold(session, hold_id)
    source = session.get(Account, held.account_id)
    assert source is not None
    account = _lock_accounts(session, [source.code])[source.code]
    held = _lock_hold(session, held.id)
    if held.status == HoldStatus.RELEASED and held.resolution_key == key:
        return held
    if held.status != HoldStatus.PENDING:
        raise InvalidState(f"hold {held.id} is already {held.status}")
    if session.scalar(select(Hold.id).where(Hold.resolution_key == key)) is not None:
        raise Conflict(f"idempotency key {key!r} was used for another hold")
    held.move_to(HoldStatus.RELEASED)
    held.resolution_key = key
    held.resolved_at = clock_now()
    account.held_minor -= held.amount_minor
    session.flush()
    return held


def expire_holds(session: Session, now: datetime) -> int:
    """Release every pending hold whose deadline is at or before `now`; returns how many.
    Used by the scheduled job. Flushes only."""
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise _refuse("now must be a timezone-aware datetime", "now")
    due = select(Hold.id, Hold.account_id).where(
        Hold.status == HoldStatus.PENDING.value,
        Hold.expires_at.is_not(None),
        Hold.expires_at <= now,
    )
    rows = session.execute(due).all()
    if not rows:
        return 0
    account_ids = sorted({account_id for _, account_id in rows})
    codes = session.scalars(select(Account.code).where(Account.id.in_(account_ids))).all()
    accounts = {a.id: a for a in _lock_accounts(session, codes).values()}
    locked = session.scalars(
        select(Hold)
        .where(Hold.id.in_([hold_id for hold_id, _ in rows]))
        .order_by(Hold.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    count = 0
    for held in locked:
        if held.status != HoldStatus.PENDING:
            continue  # resolved by someone else meanwhile
        held.move_to(HoldStatus.EXPIRED)
        held.resolved_at = now
        accounts[held.account_id].held_minor -= held.amount_minor
        count += 1
    session.flush()
    return count


# --- reversals ------------------------------------------------------------------------------


def reverse_entry(
    session: Session, entry_id: int, *, reason: str, idempotency_key: str
) -> JournalEntry:
    """Undo an entry with a new entry of mirrored postings, linked by reverses_entry_id.
    An entry is reversed at most once, and a reversal is not itself reversed (post a new
    entry instead). A replay with the same key returns the reversal. Flushes only."""
    key = _check_key(idempotency_key)
    reason = _check_text(reason, "reason", MAX_MEMO_LENGTH, optional=False) or ""
    if not reason.strip():
        raise _refuse("give a reason for the reversal", "reason")
    if type(entry_id) is not int:
        raise _refuse("entry_id must be an integer", "entry_id")
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise NotFound(f"no such entry: {entry_id}")
    if original.reverses_entry_id is not None:
        raise InvalidState(f"entry {entry_id} is a reversal; post a new entry instead")
    legs = [(code, -amount) for code, amount in _entry_legs(session, original)]
    accounts = _lock_rows(session, [code for code, _ in legs])

    existing = _entry_by_key(session, key)
    if existing is not None:
        if existing.reverses_entry_id != original.id or existing.memo != reason:
            raise Conflict(f"idempotency key {key!r} was used for a different entry")
        return existing
    already = session.scalar(
        select(JournalEntry.id).where(JournalEntry.reverses_entry_id == original.id)
    )
    if already is not None:
        raise InvalidState(f"entry {entry_id} was already reversed by entry {already}")
    return _post(
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
