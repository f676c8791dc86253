"""Read models of the ledger: balances, statements with running balance, the trial
balance, entries with their postings, a user's wallet.

The plain functions (balances, statement, trial_balance, entry_with_postings,
wallet_summary, wallet_statement) do no authorization: a user's own wallet is addressed by
the signed-in user's id. The `auditor_*` functions are what pages and API call for
another person's data: they take a Viewer and refuse anyone who is not an auditor/admin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.errors import NotFound, ValidationFailed
from p2pbank.ledger.models import Account, Hold, HoldStatus, JournalEntry, Posting
from p2pbank.ledger.services import wallet_code
from p2pbank.paging import Paged

MAX_PER_PAGE = 200


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
class StatementPage(Paged):
    account_code: str
    currency: str
    lines: list[StatementLine]


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
class AccountPage(Paged):
    accounts: list[AccountView]


# --- paging ---------------------------------------------------------------------------------


def checked_paging(page: object, per_page: object) -> tuple[int, int]:
    if type(page) is not int or page < 1:
        raise ValidationFailed("page must be 1 or more", field_errors={"page": ["Must be >= 1."]})
    if type(per_page) is not int or not 1 <= per_page <= MAX_PER_PAGE:
        message = f"per_page must be 1 to {MAX_PER_PAGE}"
        raise ValidationFailed.on("per_page", message)
    return page, per_page


def account_or_404(session: Session, code: str) -> Account:
    account = session.scalar(select(Account).where(Account.code == code))
    if account is None:
        raise NotFound(f"no such account: {code}")
    return account


def account_view(account: Account) -> AccountView:
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
    account = account_or_404(session, account_code)
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
    page, per_page = checked_paging(page, per_page)
    account = account_or_404(session, account_code)
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
    account = account_or_404(session, account_code)
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


def hold_views(session: Session, account_id: int) -> list[HoldView]:
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
        hold_views(session, account.id),
    )


def wallet_statement(
    session: Session, user_id: int, *, page: int = 1, per_page: int = 50, currency: str = "EUR"
) -> StatementPage:
    """The user's own wallet statement (empty when no wallet was opened yet)."""
    page, per_page = checked_paging(page, per_page)
    code = wallet_code(user_id, currency)
    if session.scalar(select(Account.id).where(Account.code == code)) is None:
        return StatementPage(code, currency, [], page=page, per_page=per_page, total=0)
    return statement(session, code, page=page, per_page=per_page)


def wallet_statement_lines(
    session: Session, user_id: int, currency: str = "EUR"
) -> Iterator[StatementLine]:
    code = wallet_code(user_id, currency)
    if session.scalar(select(Account.id).where(Account.code == code)) is None:
        return iter(())
    return iter_statement(session, code)


def list_accounts(
    session: Session, *, page: int = 1, per_page: int = 50, prefix: str = ""
) -> AccountPage:
    page, per_page = checked_paging(page, per_page)
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
    views = [account_view(a) for a in accounts]
    return AccountPage(views, page=page, per_page=per_page, total=total)
