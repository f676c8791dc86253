"""Who may do what: the roles, each permission named once, and which roles grant which.

Pure and outside the domain layers, so every domain reads the one vocabulary: the audit
log and the ledger sit below identity and may not import it, which is why they used to
spell the role names as strings of their own. `p2pbank.identity.rules` re-exports `Role`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from p2pbank.errors import Forbidden


class Role(StrEnum):
    LENDER = "lender"
    BORROWER = "borrower"
    INITIATOR = "initiator"
    BACKER = "backer"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(StrEnum):
    # The trust log's pages, the journal an outside verifier downloads, a member's score
    # breakdown: for auditors, not admins (whose own actions the log records).
    READ_AUDIT_LOG = "read_audit_log"
    # The books: any ledger account, gateway events and reconciliation, a campaign's feed.
    READ_BOOKS = "read_books"
    # Other people's accounts: roles, identity checks, sophisticated-investor status.
    MANAGE_PEOPLE = "manage_people"
    # Hiding ratings and questions from the public.
    MODERATE = "moderate"
    REFUND_DEPOSITS = "refund_deposits"
    # Seeing and acting on anyone's listings, loans and campaigns, as their owner could.
    OVERSEE = "oversee"
    BORROW = "borrow"
    # Lending on the marketplace and buying and selling loan parts.
    LEND = "lend"
    LEND_THROUGH_CAMPAIGNS = "lend_through_campaigns"
    START_CAMPAIGNS = "start_campaigns"


GRANTS: Mapping[Role, frozenset[Permission]] = {
    Role.LENDER: frozenset({Permission.LEND, Permission.LEND_THROUGH_CAMPAIGNS}),
    Role.BORROWER: frozenset({Permission.BORROW}),
    Role.INITIATOR: frozenset({Permission.START_CAMPAIGNS}),
    Role.BACKER: frozenset({Permission.LEND_THROUGH_CAMPAIGNS}),
    Role.AUDITOR: frozenset({Permission.READ_AUDIT_LOG, Permission.READ_BOOKS}),
    Role.ADMIN: frozenset(
        {
            Permission.READ_BOOKS,
            Permission.MANAGE_PEOPLE,
            Permission.MODERATE,
            Permission.REFUND_DEPOSITS,
            Permission.OVERSEE,
        }
    ),
}


_GRANTS_BY_NAME = {str(role): granted for role, granted in GRANTS.items()}


def permissions_of(role_names: Iterable[str]) -> frozenset[Permission]:
    """Everything the roles grant together; a name that is no role grants nothing."""
    return frozenset().union(*(_GRANTS_BY_NAME.get(str(name), frozenset()) for name in role_names))


def may(role_names: Iterable[str], permission: Permission) -> bool:
    return permission in permissions_of(role_names)


def require(role_names: Iterable[str], permission: Permission, refusal: str) -> None:
    """Go on when one of the roles grants the permission, else refuse (403). The refusal is
    written at the check, in the words of the page that shows it."""
    if not may(role_names, permission):
        raise Forbidden(refusal)
