"""The journal as the pages show it: one entry with its postings, the latest entries, and
the trial balance per currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from p2pbank.errors import NotFound
from p2pbank.ledger.models import Account, JournalEntry, Posting


@dataclass(frozen=True)
class PostingView:
    id: int
    account_code: str
    account_type: str
    amount_minor: int
    balance_after_minor: int

    @property
    def side(self) -> str:
        return "credit" if self.amount_minor > 0 else "debit"


@dataclass(frozen=True)
class EntryView:
    id: int
    idempotency_key: str
    kind: str
    currency: str
    memo: str
    ref_type: str | None
    ref_id: int | None
    gateway_ref: str | None
    created_at: datetime
    content_hash: str
    reverses_entry_id: int | None
    reversed_by_entry_id: int | None
    postings: list[PostingView]


@dataclass(frozen=True)
class TrialBalanceRow:
    currency: str
    type: str
    accounts: int
    debit: int
    credit: int


@dataclass(frozen=True)
class TrialBalance:
    """Debits (negative balances) and credits (positive balances) per currency and type;
    per currency the two totals are equal when the ledger balances."""

    rows: list[TrialBalanceRow]
    totals: dict[str, tuple[int, int]]

    @property
    def balanced(self) -> bool:
        return all(debit == credit for debit, credit in self.totals.values())


def entry_with_postings(session: Session, entry_id: int) -> EntryView:
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"no such entry: {entry_id}")
    rows = session.execute(
        select(
            Posting.id,
            Account.code,
            Account.type,
            Posting.amount_minor,
            Posting.balance_after_minor,
        )
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.entry_id == entry.id)
        .order_by(Posting.amount_minor, Posting.id)
    )
    reversed_by = session.scalar(
        select(JournalEntry.id).where(JournalEntry.reverses_entry_id == entry.id)
    )
    return EntryView(
        id=entry.id,
        idempotency_key=entry.idempotency_key,
        kind=entry.kind,
        currency=entry.currency,
        memo=entry.memo,
        ref_type=entry.ref_type,
        ref_id=entry.ref_id,
        gateway_ref=entry.gateway_ref,
        created_at=entry.created_at,
        content_hash=entry.content_hash,
        reverses_entry_id=entry.reverses_entry_id,
        reversed_by_entry_id=reversed_by,
        postings=[PostingView(*row) for row in rows],
    )


def trial_balance(session: Session) -> TrialBalance:
    """From the cached balances (ledger-check proves they equal the postings)."""
    debit = func.sum(case((Account.posted_minor < 0, -Account.posted_minor), else_=0))
    credit = func.sum(case((Account.posted_minor > 0, Account.posted_minor), else_=0))
    rows = session.execute(
        select(Account.currency, Account.type, func.count(Account.id), debit, credit)
        .group_by(Account.currency, Account.type)
        .order_by(Account.currency, Account.type)
    )
    result = [TrialBalanceRow(c, t, n, int(d or 0), int(k or 0)) for c, t, n, d, k in rows]
    totals: dict[str, tuple[int, int]] = {}
    for row in result:
        d, k = totals.get(row.currency, (0, 0))
        totals[row.currency] = (d + row.debit, k + row.credit)
    return TrialBalance(result, totals)


def recent_entries(session: Session, *, limit: int = 20) -> list[EntryView]:
    ids = session.scalars(select(JournalEntry.id).order_by(JournalEntry.id.desc()).limit(limit))
    return [entry_with_postings(session, entry_id) for entry_id in ids]
