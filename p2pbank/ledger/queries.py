"""Read models of the ledger: balances, statements with running balance, the trial
balance, entries with their postings, a user's wallet.

The plain functions (balances, statement, trial_balance, entry_with_postings,
wallet_summary, wallet_statement) do no authorization: a user's own wallet is addressed by
the signed-in user's id. The `auditor_*` functions are what pages and API call for
another person's data: they take a Viewer and refuse anyone who is not an auditor/admin.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from p2pbank.errors import Forbidden, NotFound, ValidationFailed
from p2pbank.ledger.models import Account, Hold, HoldStatus, JournalEntry, Posting
from p2pbank.ledger.services import wallet_code

MAX_PER_PAGE = 200
AUDIT_ROLES = frozenset({"auditor", "admin"})


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the caller (page or API) builds it from the signed-in user."""

    user_id: int | None
    roles: frozenset[str] = frozenset()

    @property
    def is_auditor(self) -> bool:
        return bool(self.roles & AUDIT_ROLES)


def require_auditor(viewer: Viewer) -> None:
    if not viewer.is_auditor:
        raise Forbidden("Only auditors can see the ledger.")


@dataclass(frozen=True)
class Balances:
    """posted (sum of postings), held (pending holds), available (posted - held).
    Unpacks as `posted, held, available = balances(...)`."""

    posted: int
    held: int
    available: int
    currency: str = "EUR"

    def __iter__(self) -> Iterator[int]:
        return iter((self.posted, self.held, self.available))


@dataclass(frozen=True)
class StatementLine:
    posting_id: int
    entry_id: int
    created_at: datetime
    kind: str
    memo: str
    amount_minor: int
    balance_after_minor: int
    ref_type: str | None
    ref_id: int | None
    reverses_entry_id: int | None


@dataclass(frozen=True)
class StatementPage:
    account_code: str
    currency: str
    lines: list[StatementLine]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


@dataclass(frozen=True)
class HoldView:
    id: int
    amount_minor: int
    currency: str
    status: str
    created_at: datetime
    expires_at: datetime | None
    memo: str
    ref_type: str | None
    ref_id: int | None


@dataclass(frozen=True)
class WalletSummary:
    user_id: int
    account_code: str
    currency: str
    posted: int
    held: int
    available: int
    open_holds: list[HoldView] = field(default_factory=list)


@dataclass(frozen=True)
class AccountView:
    id: int
    code: str
    type: str
    currency: str
    owner_id: int | None
    no_negative: bool
    posted: int
    held: int
    available: int
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class AccountPage:
    accounts: list[AccountView]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


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


# --- paging ---------------------------------------------------------------------------------


def _paging(page: object, per_page: object) -> tuple[int, int]:
    if type(page) is not int or page < 1:
        raise ValidationFailed("page must be 1 or more", field_errors={"page": ["Must be >= 1."]})
    if type(per_page) is not int or not 1 <= per_page <= MAX_PER_PAGE:
        message = f"per_page must be 1 to {MAX_PER_PAGE}"
        raise ValidationFailed.on("per_page", message)
    return page, per_page


def _account(session: Session, code: str) -> Account:
    account = session.scalar(select(Account).where(Account.code == code))
    if account is None:
        raise NotFound(f"no such account: {code}")
    return account


def _view(account: Account) -> AccountView:
    return AccountView(
        id=account.id,
        code=account.code,
        type=account.type,
        currency=account.currency,
        owner_id=account.owner_id,
        no_negative=account.no_negative,
        posted=account.posted_minor,
        held=account.held_minor,
        available=account.available_minor,
        created_at=account.created_at,
        closed_at=account.closed_at,
    )


# --- balances and statements ----------------------------------------------------------------


def balances(session: Session, account_code: str) -> Balances:
    account = _account(session, account_code)
    return Balances(
        account.posted_minor, account.held_minor, account.available_minor, account.currency
    )


def _statement_select(account_id: int):
    return (
        select(
            Posting.id,
            Posting.entry_id,
            JournalEntry.created_at,
            JournalEntry.kind,
            JournalEntry.memo,
            Posting.amount_minor,
            Posting.balance_after_minor,
            JournalEntry.ref_type,
            JournalEntry.ref_id,
            JournalEntry.reverses_entry_id,
        )
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id == account_id)
    )


def statement(
    session: Session, account_code: str, *, page: int = 1, per_page: int = 50
) -> StatementPage:
    """The account's postings, newest first, each with the balance right after it."""
    page, per_page = _paging(page, per_page)
    account = _account(session, account_code)
    total = session.scalar(select(func.count(Posting.id)).where(Posting.account_id == account.id))
    rows = session.execute(
        _statement_select(account.id)
        .order_by(Posting.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return StatementPage(
        account_code=account.code,
        currency=account.currency,
        lines=[StatementLine(*row) for row in rows],
        page=page,
        per_page=per_page,
        total=total or 0,
    )


def iter_statement(
    session: Session, account_code: str, batch: int = 500
) -> Iterator[StatementLine]:
    """Every posting of the account, oldest first, read in batches (for CSV export)."""
    account = _account(session, account_code)
    after = 0
    while True:
        rows = session.execute(
            _statement_select(account.id)
            .where(Posting.id > after)
            .order_by(Posting.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield StatementLine(*row)
        after = rows[-1][0]


def _hold_views(session: Session, account_id: int) -> list[HoldView]:
    holds = session.scalars(
        select(Hold)
        .where(Hold.account_id == account_id, Hold.status == HoldStatus.PENDING.value)
        .order_by(Hold.id)
    )
    return [
        HoldView(
            h.id,
            h.amount_minor,
            h.currency,
            h.status,
            h.created_at,
            h.expires_at,
            h.memo,
            h.ref_type,
            h.ref_id,
        )
        for h in holds
    ]


def wallet_summary(session: Session, user_id: int, currency: str = "EUR") -> WalletSummary:
    """The user's wallet balances and open holds; zeros when no wallet was opened yet."""
    code = wallet_code(user_id, currency)
    account = session.scalar(select(Account).where(Account.code == code))
    if account is None:
        return WalletSummary(user_id, code, currency, 0, 0, 0, [])
    return WalletSummary(
        user_id,
        code,
        account.currency,
        account.posted_minor,
        account.held_minor,
        account.available_minor,
        _hold_views(session, account.id),
    )


def wallet_statement(
    session: Session, user_id: int, *, page: int = 1, per_page: int = 50, currency: str = "EUR"
) -> StatementPage:
    """The user's own wallet statement (empty when no wallet was opened yet)."""
    page, per_page = _paging(page, per_page)
    code = wallet_code(user_id, currency)
    if session.scalar(select(Account.id).where(Account.code == code)) is None:
        return StatementPage(code, currency, [], page, per_page, 0)
    return statement(session, code, page=page, per_page=per_page)


def wallet_statement_lines(
    session: Session, user_id: int, currency: str = "EUR"
) -> Iterator[StatementLine]:
    code = wallet_code(user_id, currency)
    if session.scalar(select(Account.id).where(Account.code == code)) is None:
        return iter(())
    return iter_statement(session, code)


# --- entries and the trial balance ----------------------------------------------------------


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


def list_accounts(
    session: Session, *, page: int = 1, per_page: int = 50, prefix: str = ""
) -> AccountPage:
    page, per_page = _paging(page, per_page)
    where = []
    if prefix:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(Account.code.like(escaped + "%", escape="\\"))
    total = session.scalar(select(func.count(Account.id)).where(*where)) or 0
    accounts = session.scalars(
        select(Account)
        .where(*where)
        .order_by(Account.code)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return AccountPage([_view(a) for a in accounts], page, per_page, total)


def recent_entries(session: Session, *, limit: int = 20) -> list[EntryView]:
    ids = session.scalars(select(JournalEntry.id).order_by(JournalEntry.id.desc()).limit(limit))
    return [entry_with_postings(session, entry_id) for entry_id in ids]


# --- what auditors see ----------------------------------------------------------------------


def auditor_accounts(
    session: Session, viewer: Viewer, *, page: int = 1, per_page: int = 50, prefix: str = ""
) -> AccountPage:
    require_auditor(viewer)
    return list_accounts(session, page=page, per_page=per_page, prefix=prefix)


def auditor_account(session: Session, viewer: Viewer, account_code: str) -> AccountView:
    require_auditor(viewer)
    return _view(_account(session, account_code))


def auditor_statement(
    session: Session, viewer: Viewer, account_code: str, *, page: int = 1, per_page: int = 50
) -> StatementPage:
    require_auditor(viewer)
    return statement(session, account_code, page=page, per_page=per_page)


def auditor_holds(session: Session, viewer: Viewer, account_code: str) -> list[HoldView]:
    require_auditor(viewer)
    return _hold_views(session, _account(session, account_code).id)


def auditor_entry(session: Session, viewer: Viewer, entry_id: int) -> EntryView:
    require_auditor(viewer)
    return entry_with_postings(session, entry_id)


def auditor_trial_balance(session: Session, viewer: Viewer) -> TrialBalance:
    require_auditor(viewer)
    return trial_balance(session)


def auditor_recent_entries(session: Session, viewer: Viewer, *, limit: int = 20) -> list[EntryView]:
    require_auditor(viewer)
    return recent_entries(session, limit=limit)
