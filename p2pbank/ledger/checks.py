"""`ledger-check`: prove the ledger's invariants from the stored rows.

Recomputes every cached balance from the postings and the pending holds, checks that every
entry balances and matches its content hash, that running balances chain, that no
forbidden-negative account is negative, that currencies agree, that reversals mirror what
they reverse, and that the postings sum to zero per currency. Read-only.

The content hash column can be rewritten along with the rows, so each entry's recomputed
hash is also compared with the `ledger.entry` leaf it put into the trust log
(p2pbank.ledger.log_check); `flask audit-verify` proves those leaves against the signed
checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.ledger.log_check import compare_with_log
from p2pbank.ledger.models import Account, Hold, HoldStatus, JournalEntry, Posting
from p2pbank.ledger.posting import hash_of


@dataclass
class LedgerReport:
    accounts: int = 0
    entries: int = 0
    postings: int = 0
    open_holds: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    first_entry_unlike_log: int | None = None  # the first entry its log leaf disowns

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        sums = ", ".join(f"{cur} {total}" for cur, total in sorted(self.totals.items())) or "-"
        text = (
            f"{self.accounts} accounts, {self.entries} entries, {self.postings} postings, "
            f"{self.open_holds} open holds; sum of postings per currency: {sums}; "
            f"{len(self.violations)} violation(s)"
        )
        if self.first_entry_unlike_log is not None:
            text += f"; first entry that differs from the trust log: {self.first_entry_unlike_log}"
        return text


_FRESH = {"populate_existing": True}  # read the rows as stored, not the session's copies


def check_ledger(session: Session, *, batch: int = 500) -> LedgerReport:
    """Every invariant of the books, one check each; the report lists every violation."""
    report = LedgerReport()
    bad = report.violations
    codes = dict(session.execute(select(Account.id, Account.code)).all())
    report.accounts = len(codes)
    report.entries = session.scalar(select(func.count(JournalEntry.id))) or 0
    report.postings = session.scalar(select(func.count(Posting.id))) or 0
    report.open_holds = (
        session.scalar(select(func.count(Hold.id)).where(Hold.status == HoldStatus.PENDING)) or 0
    )
    _check_balances(session, bad)
    _check_entries_balance(session, bad)
    _check_currencies(session, bad)
    _check_running_balances(session, codes, bad)
    _check_hashes_and_reversals(session, codes, bad, batch)
    _check_holds(session, bad)
    _check_trial_balance(session, report)
    _check_against_log(session, report, batch)
    return report


def _check_balances(session: Session, bad: list[str]) -> None:
    """Cached posted balance = sum of postings; cached held = sum of pending holds."""
    posted_sums = dict(
        session.execute(
            select(Posting.account_id, func.sum(Posting.amount_minor)).group_by(Posting.account_id)
        ).all()
    )
    held_sums = dict(
        session.execute(
            select(Hold.account_id, func.sum(Hold.amount_minor))
            .where(Hold.status == HoldStatus.PENDING.value)
            .group_by(Hold.account_id)
        ).all()
    )
    for account in session.scalars(select(Account).order_by(Account.id), execution_options=_FRESH):
        posted = int(posted_sums.get(account.id) or 0)
        held = int(held_sums.get(account.id) or 0)
        if account.posted_minor != posted:
            bad.append(
                f"account {account.code}: cached posted balance {account.posted_minor} "
                f"!= sum of postings {posted}"
            )
        if account.held_minor != held:
            bad.append(
                f"account {account.code}: cached held balance {account.held_minor} "
                f"!= open holds {held}"
            )
        if account.no_negative:
            # Both the cached balances (what the services act on) and the recomputed ones.
            for p, h in sorted({(account.posted_minor, account.held_minor), (posted, held)}):
                if p < 0 or p - h < 0:
                    bad.append(
                        f"account {account.code}: may not go negative but posted {p}, "
                        f"available {p - h}"
                    )
                    break


def _check_entries_balance(session: Session, bad: list[str]) -> None:
    """Every entry has two or more postings summing to zero."""
    unbalanced = session.execute(
        select(Posting.entry_id, func.count(Posting.id), func.sum(Posting.amount_minor))
        .group_by(Posting.entry_id)
        .having((func.sum(Posting.amount_minor) != 0) | (func.count(Posting.id) < 2))
    ).all()
    for entry_id, count, total in unbalanced:
        bad.append(f"entry {entry_id}: {count} posting(s) summing to {total}, not balanced")
    empty = session.scalars(
        select(JournalEntry.id).where(~JournalEntry.postings.any()).order_by(JournalEntry.id)
    ).all()
    for entry_id in empty:
        bad.append(f"entry {entry_id}: has no postings")


def _check_currencies(session: Session, bad: list[str]) -> None:
    """Currencies agree: posting = account = entry."""
    mismatched = session.execute(
        select(Posting.id, Posting.entry_id, Account.code)
        .join(Account, Account.id == Posting.account_id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where((Posting.currency != Account.currency) | (Posting.currency != JournalEntry.currency))
    ).all()
    for posting_id, entry_id, code in mismatched:
        bad.append(f"posting {posting_id} (entry {entry_id}, {code}): currency mismatch")


def _check_running_balances(session: Session, codes: dict[int, str], bad: list[str]) -> None:
    """Running balances chain: balance_after = sum of the account's postings up to it."""
    running = (
        select(
            Posting.id.label("posting_id"),
            Posting.account_id.label("account_id"),
            Posting.balance_after_minor.label("after"),
            func.sum(Posting.amount_minor)
            .over(partition_by=Posting.account_id, order_by=Posting.id)
            .label("running"),
        )
    ).subquery()
    for posting_id, account_id, after, total in session.execute(
        select(running.c.posting_id, running.c.account_id, running.c.after, running.c.running)
        .where(running.c.after != running.c.running)
        .order_by(running.c.posting_id)
    ):
        bad.append(
            f"posting {posting_id} ({codes.get(account_id)}): balance after {after} "
            f"!= running sum {total}"
        )


def _check_hashes_and_reversals(
    session: Session, codes: dict[int, str], bad: list[str], batch: int
) -> None:
    """Content hashes and reversals, a batch of entries at a time."""
    after_id = 0
    while True:
        entries = (
            session.execute(
                select(JournalEntry)
                .where(JournalEntry.id > after_id)
                .order_by(JournalEntry.id)
                .limit(batch),
                execution_options=_FRESH,
            )
            .scalars()
            .all()
        )
        if not entries:
            break
        ids = [entry.id for entry in entries]
        legs: dict[int, list[tuple[str, int]]] = {entry_id: [] for entry_id in ids}
        for entry_id, account_id, amount in session.execute(
            select(Posting.entry_id, Posting.account_id, Posting.amount_minor).where(
                Posting.entry_id.in_(ids)
            )
        ):
            legs[entry_id].append((codes[account_id], amount))
        for entry in entries:
            if hash_of(entry, legs[entry.id]) != entry.content_hash:
                bad.append(f"entry {entry.id}: content does not match its content hash")
            if entry.reverses_entry_id is not None:
                _check_reversal(session, entry, bad)
        after_id = ids[-1]


def _check_holds(session: Session, bad: list[str]) -> None:
    """Holds: a captured hold names its entry and never captured more than it held."""
    captured = Hold.status == HoldStatus.CAPTURED.value
    for hold_id, status, entry_id in session.execute(
        select(Hold.id, Hold.status, Hold.capture_entry_id)
        .where(
            (captured & Hold.capture_entry_id.is_(None))
            | (~captured & Hold.capture_entry_id.is_not(None))
            | (Hold.captured_minor > Hold.amount_minor)
        )
        .order_by(Hold.id)
    ):
        bad.append(f"hold {hold_id}: status {status} does not match capture entry {entry_id}")


def _check_trial_balance(session: Session, report: LedgerReport) -> None:
    """The postings sum to zero per currency (the trial balance)."""
    for currency, total in session.execute(
        select(Posting.currency, func.sum(Posting.amount_minor)).group_by(Posting.currency)
    ):
        report.totals[currency] = int(total or 0)
        if total:
            report.violations.append(f"currency {currency}: postings sum to {total}, not zero")


def _check_against_log(session: Session, report: LedgerReport, batch: int) -> None:
    """Every entry's recomputed hash equals its leaf in the trust log."""
    journal = compare_with_log(session, batch=batch)
    for mismatch in journal.mismatches:
        where = f" (log entry {mismatch.leaf_index})" if mismatch.leaf_index is not None else ""
        who = f"entry {mismatch.entry_id}" if mismatch.entry_id is not None else "trust log"
        report.violations.append(f"{who}: {mismatch.message}{where}")
    report.first_entry_unlike_log = journal.first_bad_entry


def _legs(session: Session, entry_id: int) -> list[tuple[int, int]]:
    rows = session.execute(
        select(Posting.account_id, Posting.amount_minor).where(Posting.entry_id == entry_id)
    )
    return sorted((account_id, amount) for account_id, amount in rows)


def _check_reversal(session: Session, entry: JournalEntry, bad: list[str]) -> None:
    original = _legs(session, entry.reverses_entry_id)
    mirrored = sorted((account_id, -amount) for account_id, amount in original)
    if _legs(session, entry.id) != mirrored:
        bad.append(f"entry {entry.id}: does not mirror entry {entry.reverses_entry_id}")
