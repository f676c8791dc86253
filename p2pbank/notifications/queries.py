"""Reading your notifications: the bell's unread count, a page of them, your settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.errors import ValidationFailed
from p2pbank.notifications import kinds
from p2pbank.notifications.models import Notification
from p2pbank.notifications.services import turned_off
from p2pbank.paging import Paged, paginate

MAX_PER_PAGE = 100


def unread_count(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


@dataclass(frozen=True)
class NotificationPage(Paged):
    notifications: list[Notification]
    unread: int


def page_for(
    session: Session, user_id: int, page: int = 1, per_page: int = 20, unread_only: bool = False
) -> NotificationPage:
    """Your notifications, newest first."""
    if type(page) is not int or page < 1:
        raise ValidationFailed("page must be 1 or more", field_errors={"page": ["Must be >= 1."]})
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows, total = paginate(session, stmt.order_by(Notification.id.desc()), page, per_page)
    unread = unread_count(session, user_id)
    return NotificationPage([r[0] for r in rows], unread, page=page, per_page=per_page, total=total)


def email_settings(session: Session, user_id: int) -> dict[str, bool]:
    """Each kind and whether it reaches this person's mail."""
    off = turned_off(session, user_id)
    return {name: kinds.wants_email(name, off) for name in kinds.KINDS}
