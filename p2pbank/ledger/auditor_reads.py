"""What auditors (and admins) see of the books: any account, statement, hold, entry and
the trial balance, each read checking the viewer's role first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from p2pbank.ledger.journal_reads import (
    EntryView,
    TrialBalance,
    entry_with_postings,
    recent_entries,
    trial_balance,
)
from p2pbank.ledger.queries import (
    AccountPage,
    AccountView,
    HoldView,
    StatementPage,
    account_or_404,
    account_view,
    hold_views,
    list_accounts,
    statement,
)
from p2pbank.permissions import Permission, may, require


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the caller (page or API) builds it from the signed-in user."""

    user_id: int | None
    roles: frozenset[str] = frozenset()

    def may(self, permission: Permission) -> bool:
        return may(self.roles, permission)


def require_books(viewer: Viewer) -> None:
    """The ledger's reads are for who may read the books, refused in the ledger's words."""
    require(viewer.roles, Permission.READ_BOOKS, "Only auditors can see the ledger.")


def auditor_accounts(
    session: Session, viewer: Viewer, *, page: int = 1, per_page: int = 50, prefix: str = ""
) -> AccountPage:
    require_books(viewer)
    return list_accounts(session, page=page, per_page=per_page, prefix=prefix)


def auditor_account(session: Session, viewer: Viewer, account_code: str) -> AccountView:
    require_books(viewer)
    return account_view(account_or_404(session, account_code))


def auditor_statement(
    session: Session, viewer: Viewer, account_code: str, *, page: int = 1, per_page: int = 50
) -> StatementPage:
    require_books(viewer)
    return statement(session, account_code, page=page, per_page=per_page)


def auditor_holds(session: Session, viewer: Viewer, account_code: str) -> list[HoldView]:
    require_books(viewer)
    return hold_views(session, account_or_404(session, account_code).id)


def auditor_entry(session: Session, viewer: Viewer, entry_id: int) -> EntryView:
    require_books(viewer)
    return entry_with_postings(session, entry_id)


def auditor_trial_balance(session: Session, viewer: Viewer) -> TrialBalance:
    require_books(viewer)
    return trial_balance(session)


def auditor_recent_entries(session: Session, viewer: Viewer, *, limit: int = 20) -> list[EntryView]:
    require_books(viewer)
    return recent_entries(session, limit=limit)
