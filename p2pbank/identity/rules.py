"""Who may hold, take, grant and revoke which role; KYC transitions; when two-factor sign-in
is required. Pure: the standard library and the roles' permissions (p2pbank.permissions, which
defines `Role`) only, so the rules can be read and tested on their own."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from p2pbank.permissions import Permission, Role, may

SELF_SERVICE_ROLES = frozenset({Role.LENDER, Role.BORROWER, Role.INITIATOR, Role.BACKER})
PRIVILEGED_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})


class KycStatus(StrEnum):
    UNVERIFIED = "unverified"
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


KYC_TRANSITIONS: dict[KycStatus, frozenset[KycStatus]] = {
    KycStatus.UNVERIFIED: frozenset({KycStatus.PENDING}),
    KycStatus.PENDING: frozenset({KycStatus.VERIFIED, KycStatus.REJECTED}),
    KycStatus.REJECTED: frozenset({KycStatus.PENDING}),
    KycStatus.VERIFIED: frozenset({KycStatus.REJECTED}),
}

# A person may ask for a (new) review only from these states.
KYC_REVIEW_REQUESTABLE = frozenset({KycStatus.UNVERIFIED, KycStatus.REJECTED})

SUPPORTED_LOCALES = ("en", "nl")


def is_role(name: str) -> bool:
    return name in {r.value for r in Role}


def may_take_role(role: str) -> bool:
    """A person may give themselves any self-service role, never a privileged one."""
    return is_role(role) and Role(role) in SELF_SERVICE_ROLES


def may_grant_role(actor_roles: Iterable[str]) -> bool:
    """Only an admin grants roles to others (the CLI, which has no actor, always may)."""
    return may(actor_roles, Permission.MANAGE_PEOPLE)


def may_revoke_role(actor_id: int, actor_roles: Iterable[str], target_id: int, role: str) -> bool:
    """An admin revokes anyone's roles except their own privileged ones (so the last admin
    cannot lock everyone out by accident); a person may drop their own self-service roles."""
    if not is_role(role):
        return False
    if actor_id == target_id:
        return Role(role) in SELF_SERVICE_ROLES
    return may(actor_roles, Permission.MANAGE_PEOPLE)


def two_factor_required(role_names: Iterable[str]) -> bool:
    """Auditors and admins see or change other people's data: they must use two factors."""
    return any(name in PRIVILEGED_ROLES for name in role_names)


def kyc_can_move(current: str, target: str) -> bool:
    try:
        return KycStatus(target) in KYC_TRANSITIONS[KycStatus(current)]
    except ValueError:
        return False


def kyc_targets(current: str) -> list[str]:
    """The statuses an admin may move a person to next, in a stable order."""
    order = [s.value for s in KycStatus]
    return sorted((s.value for s in KYC_TRANSITIONS[KycStatus(current)]), key=order.index)


def may_request_kyc_review(current: str) -> bool:
    return KycStatus(current) in KYC_REVIEW_REQUESTABLE


MAX_NEXT_LENGTH = 2000


def same_site_path(target: str | None) -> str | None:
    """The `next` address after sign-in, kept only when it is a path on this site.

    Browsers drop tabs and line breaks inside URLs and read a backslash as a slash, so
    `/<TAB>/evil.example` and `/\\evil.example` lead off-site: only printable ASCII is
    accepted (anything else arrives percent-encoded from a real page), with one leading
    slash and no backslash at all. None means: go to the default page instead."""
    if not target or len(target) > MAX_NEXT_LENGTH:
        return None
    if not all("!" <= ch <= "~" for ch in target):  # no controls, spaces or non-ASCII
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target
