"""The posting engine under the ledger's commands: lock the accounts in id order, check
the legs, hash the entry's content, and write entry, postings, balances and trust-log leaf
(in one statement on PostgreSQL, see ledger/statements.py). Callers check their input
first (ledger/inputs.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select
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
from p2pbank.ledger import statements
from p2pbank.ledger.entry_hash import content_hash
from p2pbank.ledger.inputs import (
    refuse,
)
from p2pbank.ledger.models import (
    Account,
    JournalEntry,
    Posting,
)
from p2pbank.uow import for_update


def lock_accounts(session: Session, codes: Iterable[str]) -> dict[str, Account]:
    """Load the accounts with a row lock, in ascending id order, with fresh balances."""
    wanted = set(codes)
    stmt = for_update(select(Account).where(Account.code.in_(wanted)).order_by(Account.id))
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


ACCOUNTS = statements.ACCOUNTS
ENTRIES = statements.ENTRIES
POSTINGS = statements.POSTINGS

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


def lock_rows(session: Session, codes: Iterable[str]) -> dict[str, LockedAccount]:
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


# --- entries --------------------------------------------------------------------------------


def entry_by_key(session: Session, key: str) -> JournalEntry | None:
    return session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))


def entry_legs(session: Session, entry: JournalEntry) -> list[tuple[str, int]]:
    rows = session.execute(
        select(Account.code, Posting.amount_minor)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.entry_id == entry.id)
    )
    return [(code, amount) for code, amount in rows]


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
    return {key: getattr(entry, key) for key in statements.ENTRY_COLUMNS}


def post_locked(
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

    The hot path of the platform, so it speaks plain SQL (lock, entry, postings, balances,
    leaf) instead of going through the unit of work, which would cost more than the
    database work itself; any ORM copies of the accounts are then brought in line
    without further SQL, and the entry is handed back as an ORM object.

    Every entry passes here in one fixed order (locks, checks, the entry's insert, which is
    also its idempotency check, postings, balances, audit leaf) that the ledger's
    invariants rest on. A refusal or a taken key looks the key up: a replay returns the
    entry first posted, even where the same movement would now be refused."""
    if accounts is None:
        accounts = lock_rows(session, [code for code, _ in legs])
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
    try:
        _check_legs(accounts, legs, currency, release)
    except (InvalidState, InsufficientFunds, ValidationFailed):
        replayed = _replayed(session, entry, legs)
        if replayed is not None:
            return replayed  # the entry was posted before: a replay, not a new movement
        raise

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
        if connection.dialect.name == "postgresql":
            entry_id = _write_at_once(connection, entry, legs, accounts, balances)
        else:
            entry_id = _write_in_steps(session, entry, legs, accounts, balances)
    except IntegrityError as exc:
        # A constraint refused the entry (a concurrent command's rows, a bad reference).
        raise Conflict("the ledger refused the entry; retry the command") from exc
    if entry_id is None:  # the key is taken: hand back that entry, or refuse the reuse
        replayed = _replayed(session, entry, legs)
        assert replayed is not None
        return replayed
    entry.id = entry_id
    written(session, balances, [entry])
    return entry


def _leg_rows(
    legs: list[tuple[str, int]],
    accounts: dict[str, LockedAccount],
    balances: dict[int, list[int]],
) -> list[tuple[int, int, int]]:
    return [(accounts[code].id, amount, balances[accounts[code].id][0]) for code, amount in legs]


def _write_at_once(
    connection: Connection,
    entry: JournalEntry,
    legs: list[tuple[str, int]],
    accounts: dict[str, LockedAccount],
    balances: dict[int, list[int]],
) -> int | None:
    """PostgreSQL: entry, postings, balances and leaf in one statement; the entry's id, or
    None when its key is taken (and nothing was written)."""
    leaf = audit.template(
        "ledger.entry", {"kind": entry.kind, "hash": entry.content_hash}, "entry_id"
    )
    params = (
        _entry_columns(entry)
        | statements.leg_params(_leg_rows(legs, accounts, balances))
        | statements.balance_params(balances)
    )
    if leaf is not None:
        params |= {
            "leaf_type": leaf.event_type,
            "leaf_head": leaf.head,
            "leaf_tail": leaf.tail,
            "queued_at": leaf.queued_at,
        }
    statement = statements.write_entry_postgres(len(legs), len(balances), leaf is not None)
    return connection.execute(statement, params).scalar()


def _write_in_steps(
    session: Session,
    entry: JournalEntry,
    legs: list[tuple[str, int]],
    accounts: dict[str, LockedAccount],
    balances: dict[int, list[int]],
) -> int | None:
    """SQLite: the same rows, a statement each (no round trips to save there)."""
    connection = session.connection()
    entry_id = connection.execute(statements.INSERT_ENTRY_SQLITE, _entry_columns(entry)).scalar()
    if entry_id is None:
        return None
    connection.execute(
        statements.insert_postings(len(legs)),
        statements.leg_params(_leg_rows(legs, accounts, balances))
        | {"entry_id": entry_id, "currency": entry.currency},
    )
    update_balances(connection, balances)
    entry.id = entry_id
    queue_leaf(session, entry)
    return entry_id


def queue_leaf(session: Session, entry: JournalEntry) -> None:
    """The entry's trust-log leaf, queued for the sequencer in the caller's transaction."""
    audit.enqueue(
        session,
        type="ledger.entry",
        subject_user_id=None,
        payload={"entry_id": entry.id, "kind": entry.kind, "hash": entry.content_hash},
        ref_id=entry.id,
    )


def _check_legs(
    accounts: dict[str, LockedAccount],
    legs: list[tuple[str, int]],
    currency: str,
    release: dict[int, int],
) -> None:
    """Refuse a leg on a closed account, in another currency, or overdrawing its account."""
    for code, amount in legs:
        account = accounts[code]
        if account.closed:
            raise InvalidState(f"account {code} is closed")
        if account.currency != currency:
            raise refuse(
                f"account {code} holds {account.currency}, the entry is in {currency}",
                "currency",
            )
        if amount < 0 and account.no_negative:
            held = account.held_minor - release.get(account.id, 0)
            if account.posted_minor + amount - held < 0:
                raise InsufficientFunds(f"account {code} has too little available money")


def _replayed(
    session: Session, entry: JournalEntry, legs: list[tuple[str, int]]
) -> JournalEntry | None:
    """The entry already posted under `entry`'s idempotency key, if any; a Conflict if that
    key was used for other content (the stored hash is compared at its own time)."""
    connection = session.connection()
    existing = connection.execute(_ENTRY_BY_KEY, {"key": entry.idempotency_key}).first()
    if existing is None:
        return None
    entry.created_at = existing.created_at
    if hash_of(entry, legs) != existing.content_hash:
        raise Conflict(f"idempotency key {entry.idempotency_key!r} was used for a different entry")
    original = session.get(JournalEntry, existing.id)
    assert original is not None
    return original


def update_balances(connection: Connection, balances: dict[int, list[int]]) -> None:
    """Each account's cached balances as the entries just written left them: one UPDATE
    for the few accounts of an entry, an executemany for a batch's many."""
    if len(balances) > statements.FEW_ACCOUNTS:
        connection.execute(
            statements.UPDATE_BALANCES,
            [
                {"account_id": account_id, "posted": posted, "held": held}
                for account_id, (posted, held) in balances.items()
            ],
        )
    else:
        connection.execute(
            statements.update_few_balances(len(balances)), statements.balance_params(balances)
        )


def written(
    session: Session, balances: dict[int, list[int]], entries: Iterable[JournalEntry]
) -> None:
    """Entries and postings are in the database now (not yet committed): bring the
    session's copies of the accounts in line without SQL and hand the entries to the
    session. Every new entry passes here exactly once."""
    for account_id, (posted, held) in balances.items():
        loaded = session.identity_map.get(identity_key(Account, account_id))
        if loaded is not None:
            set_committed_value(loaded, "posted_minor", posted)
            set_committed_value(loaded, "held_minor", held)
    for entry in entries:
        make_transient_to_detached(entry)
        session.add(entry)
