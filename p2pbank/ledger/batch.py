"""Many balanced entries in one transaction, for bulk work (a repayment run, a settlement,
a demo): the accounts are locked once, in id order, for the whole batch, and entries,
postings, balances and trust-log leaves are written in a handful of set-based statements
instead of a handful per entry.

The same rules as `services.post_entry`, entry by entry and in the batch's order: each
entry is checked against the balances the entries before it left, so a batch posts
exactly what the same entries posted one after another would, and a refusal anywhere
writes nothing. Replaying a batch returns the entries already posted (same idempotency
keys, same content); a key used for other content is a Conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from p2pbank.clock import now as clock_now
from p2pbank.errors import Conflict, InsufficientFunds, InvalidState
from p2pbank.ledger.inputs import (
    MAX_MEMO_LENGTH,
    check_currency,
    check_key,
    check_kind,
    check_postings,
    check_ref_id,
    check_text,
    refuse,
)
from p2pbank.ledger.models import JournalEntry
from p2pbank.ledger.posting import (
    ENTRIES,
    POSTINGS,
    LockedAccount,
    hash_of,
    lock_rows,
    queue_leaf,
    update_balances,
    written,
)

MAX_BATCH = 5_000  # entries; a larger run is several batches (each its own transaction)

_ENTRIES_BY_KEYS = select(ENTRIES).where(
    ENTRIES.c.idempotency_key.in_(bindparam("keys", expanding=True))
)
_INSERT_ENTRIES = insert(ENTRIES).returning(ENTRIES.c.id, sort_by_parameter_order=True)


@dataclass(frozen=True)
class NewEntry:
    """One entry of a batch, as `post_entry` takes it."""

    postings: Sequence[tuple[str, int]]
    kind: str
    idempotency_key: str
    currency: str = "EUR"
    ref_type: str | None = None
    ref_id: int | None = None
    gateway_ref: str | None = None
    memo: str = ""


def _checked(new: NewEntry) -> tuple[JournalEntry, list[tuple[str, int]]]:
    legs = check_postings(list(new.postings))
    entry = JournalEntry(
        idempotency_key=check_key(new.idempotency_key),
        kind=check_kind(new.kind),
        currency=check_currency(new.currency),
        memo=check_text(new.memo, "memo", MAX_MEMO_LENGTH, optional=False) or "",
        ref_type=check_text(new.ref_type, "ref_type", 40, optional=True),
        ref_id=check_ref_id(new.ref_id),
        gateway_ref=check_text(new.gateway_ref, "gateway_ref", 200, optional=True),
        reverses_entry_id=None,
    )
    return entry, legs


def _apply(
    accounts: dict[str, LockedAccount],
    balances: dict[str, list[int]],
    entry: JournalEntry,
    legs: list[tuple[str, int]],
) -> list[dict]:
    """Check one entry against the running balances, move them, and return its postings."""
    rows = []
    for code, amount in legs:
        account = accounts[code]
        if account.closed:
            raise InvalidState(f"account {code} is closed")
        if account.currency != entry.currency:
            raise refuse(
                f"account {code} holds {account.currency}, the entry is in {entry.currency}",
                "currency",
            )
        posted, held = balances[code]
        if amount < 0 and account.no_negative and posted + amount - held < 0:
            raise InsufficientFunds(f"account {code} has too little available money")
    for code, amount in legs:
        balances[code][0] += amount
        rows.append(
            {
                "account_id": accounts[code].id,
                "amount_minor": amount,
                "currency": entry.currency,
                "balance_after_minor": balances[code][0],
            }
        )
    return rows


def post_entries(session: Session, entries: Sequence[NewEntry]) -> list[JournalEntry]:
    """Post every entry of the batch, in order, or none (flush only: the caller commits).
    Returns the entries in the batch's order, the ones already posted included."""
    if not 1 <= len(entries) <= MAX_BATCH:
        raise refuse(f"a batch holds 1 to {MAX_BATCH} entries", "entries")
    checked = [_checked(new) for new in entries]
    keys = [entry.idempotency_key for entry, _ in checked]
    if len(set(keys)) != len(keys):
        raise refuse("each idempotency key appears once in a batch", "entries")
    accounts = lock_rows(session, {code for _, legs in checked for code, _ in legs})
    connection = session.connection()
    found = {
        row.idempotency_key: row for row in connection.execute(_ENTRIES_BY_KEYS, {"keys": keys})
    }
    balances = {code: [a.posted_minor, a.held_minor] for code, a in accounts.items()}
    moment = clock_now()
    fresh: list[tuple[JournalEntry, list[dict]]] = []
    moved: set[str] = set()
    for entry, legs in checked:
        existing = found.get(entry.idempotency_key)
        entry.created_at = existing.created_at if existing is not None else moment
        entry.content_hash = hash_of(entry, legs)
        if existing is not None:
            if entry.content_hash != existing.content_hash:
                raise Conflict(
                    f"idempotency key {entry.idempotency_key!r} was used for a different entry"
                )
            continue
        fresh.append((entry, _apply(accounts, balances, entry, legs)))
        moved.update(code for code, _ in legs)
    if fresh:
        _write(session, fresh, {accounts[code].id: balances[code] for code in sorted(moved)})
    posted = {entry.idempotency_key: entry for entry, _ in fresh}
    return [posted.get(key) or _loaded(session, found[key].id) for key in keys]


def _loaded(session: Session, entry_id: int) -> JournalEntry:
    entry = session.get(JournalEntry, entry_id)
    assert entry is not None
    return entry


def _write(
    session: Session,
    fresh: list[tuple[JournalEntry, list[dict]]],
    balances: dict[int, list[int]],
) -> None:
    """Entries, postings, balances in three statements; then the ORM copies and the leaves.
    `balances` maps each account id the batch moved to its [posted, held] after it."""
    connection = session.connection()
    columns = [column.key for column in ENTRIES.columns if column.key != "id"]
    try:
        ids = (
            connection.execute(
                _INSERT_ENTRIES,
                [{key: getattr(entry, key) for key in columns} for entry, _ in fresh],
            )
            .scalars()
            .all()
        )
        postings = []
        for entry_id, (entry, rows) in zip(ids, fresh, strict=True):
            entry.id = entry_id
            postings += [{**row, "entry_id": entry_id} for row in rows]
        connection.execute(insert(POSTINGS), postings)
        update_balances(connection, balances)
    except IntegrityError as exc:
        raise Conflict("the ledger refused the batch; retry the command") from exc
    written(session, balances, [entry for entry, _ in fresh])
    for entry, _ in fresh:
        queue_leaf(session, entry)
