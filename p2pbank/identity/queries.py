"""Read models for identity pages and API: people search, role and KYC histories.
Authorization is checked here too: only admins see other people; a person sees their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from p2pbank.identity.models import KycChange, RoleGrant, User
from p2pbank.identity.services import get_user
from p2pbank.paging import Paged
from p2pbank.permissions import Permission, require

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class PeoplePage(Paged):
    people: list[User]


@dataclass(frozen=True)
class RoleChange:
    role: str
    action: str
    reason: str
    by_id: int | None
    by_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class KycDecision:
    from_status: str
    to_status: str
    reason: str
    by_id: int | None
    by_name: str | None
    created_at: datetime


def require_admin(session: Session, actor_id: int) -> User:
    """The actor, when they are an admin; Forbidden otherwise."""
    actor = get_user(session, actor_id)
    require(
        actor.role_names, Permission.MANAGE_PEOPLE, "Only an admin can see other people's accounts."
    )
    return actor


def _require_admin_or_self(session: Session, actor_id: int, user_id: int) -> User:
    if actor_id != user_id:
        require_admin(session, actor_id)
    return get_user(session, user_id)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_people(
    session: Session, actor_id: int, query: str = "", page: int = 1, per_page: int = 25
) -> PeoplePage:
    """People whose e-mail or name contains `query` (case-insensitive), newest first."""
    require_admin(session, actor_id)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    page = max(page, 1)
    condition = None
    query = query.strip()
    if query:
        pattern = _like_pattern(query.lower())
        condition = or_(
            func.lower(User.email).like(pattern, escape="\\"),
            func.lower(User.display_name).like(pattern, escape="\\"),
        )
    count = select(func.count(User.id))
    rows = select(User).order_by(User.id.desc())
    if condition is not None:
        count = count.where(condition)
        rows = rows.where(condition)
    total = session.scalar(count) or 0
    people = list(session.scalars(rows.limit(per_page).offset((page - 1) * per_page)))
    return PeoplePage(people=people, total=total, page=page, per_page=per_page)


def person(session: Session, actor_id: int, user_id: int) -> User:
    """One person's account, for an admin or for the person themselves."""
    return _require_admin_or_self(session, actor_id, user_id)


def role_history(session: Session, actor_id: int, user_id: int) -> list[RoleChange]:
    """Every grant and revocation of the person's roles, newest first."""
    _require_admin_or_self(session, actor_id, user_id)
    by = aliased(User)
    rows = session.execute(
        select(RoleGrant, by.display_name)
        .outerjoin(by, by.id == RoleGrant.granted_by_id)
        .where(RoleGrant.user_id == user_id)
        .order_by(RoleGrant.id.desc())
    )
    return [
        RoleChange(
            role=grant.role,
            action=grant.action,
            reason=grant.reason,
            by_id=grant.granted_by_id,
            by_name=name,
            created_at=grant.created_at,
        )
        for grant, name in rows
    ]


def kyc_history(session: Session, actor_id: int, user_id: int) -> list[KycDecision]:
    """Every KYC status change of the person with its reason, newest first."""
    _require_admin_or_self(session, actor_id, user_id)
    by = aliased(User)
    rows = session.execute(
        select(KycChange, by.display_name)
        .outerjoin(by, by.id == KycChange.decided_by_id)
        .where(KycChange.user_id == user_id)
        .order_by(KycChange.id.desc())
    )
    return [
        KycDecision(
            from_status=change.from_status,
            to_status=change.to_status,
            reason=change.reason,
            by_id=change.decided_by_id,
            by_name=name,
            created_at=change.created_at,
        )
        for change, name in rows
    ]
