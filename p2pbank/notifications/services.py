"""Tell a person something, and let them read it and choose which kinds reach their mail.

`notify` only adds a row to the caller's session: it joins the domain command's
transaction (call it before the command commits), so the notification exists exactly
when the event does. Whether an e-mail follows is decided here, from the person's
settings at the time of the event; the scheduled mail work writes it later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.errors import NotFound, ValidationFailed
from p2pbank.notifications import kinds
from p2pbank.notifications.models import (
    EMAIL_NONE,
    EMAIL_PENDING,
    Notification,
    NotificationSetting,
)
from p2pbank.uow import command


def turned_off(session: Session, user_id: int) -> set[str]:
    """The kinds this person does not want by e-mail. Reads without flushing: the
    notifications added so far go to the database together, in one batch."""
    with session.no_autoflush:
        return set(
            session.scalars(
                select(NotificationSetting.kind).where(
                    NotificationSetting.user_id == user_id, NotificationSetting.email.is_(False)
                )
            )
        )


def notify(
    session: Session,
    user_id: int,
    kind: str,
    params: dict[str, object] | None = None,
    link: str | None = None,
    *,
    key: str | None = None,
) -> Notification | None:
    """Add a notification to the current transaction (no commit). With `key`, at most one
    notification per person and key: a second call returns None. It is mailed too unless
    the kind is in-app only or the person turned it off."""
    params = dict(params or {})
    kinds.check_params(kind, params)
    kinds.check_link(link)
    if key is not None:
        session.flush()
        seen = session.scalar(
            select(Notification.id).where(
                Notification.user_id == user_id, Notification.dedupe_key == key
            )
        )
        if seen is not None:
            return None
    wanted = kinds.wants_email(kind, turned_off(session, user_id))
    row = Notification(
        user_id=user_id,
        kind=kind,
        params=params,
        link=link,
        created_at=now(),
        email_state=EMAIL_PENDING if wanted else EMAIL_NONE,
        dedupe_key=key,
    )
    session.add(row)
    return row


def notify_each(
    session: Session,
    user_ids: Iterable[int],
    kind: str,
    params: dict[str, object] | None = None,
    link: str | None = None,
    *,
    key: str | None = None,
) -> int:
    """The same notification to several people (each once); how many were added."""
    added = 0
    for user_id in sorted(set(user_ids)):
        added += notify(session, user_id, kind, params, link, key=key) is not None
    return added


def mark_read(session: Session, actor_id: int, notification_id: int) -> Notification:
    """Mark one of your own notifications read (someone else's is not found)."""
    with command(session):
        row = session.get(Notification, notification_id)
        if row is None or row.user_id != actor_id:
            raise NotFound("No such notification.")
        if row.read_at is None:
            row.read_at = now()
    return row


def mark_all_read(session: Session, actor_id: int) -> int:
    """Mark all your unread notifications read; how many were unread."""
    with command(session):
        result = session.execute(
            update(Notification)
            .where(Notification.user_id == actor_id, Notification.read_at.is_(None))
            .values(read_at=now())
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)


def set_email_kinds(session: Session, actor_id: int, wanted: Iterable[str]) -> set[str]:
    """Mail only the kinds in `wanted`; the others become in-app only. Returns the kinds
    now turned off."""
    wanted = set(wanted)
    unknown = sorted(wanted - set(kinds.KINDS))
    if unknown:
        raise ValidationFailed(
            "Unknown notification kind.", field_errors={"email": [f"Unknown: {unknown[0]}"]}
        )
    off = {name for name in kinds.KINDS if name not in wanted}
    with command(session):
        session.execute(delete(NotificationSetting).where(NotificationSetting.user_id == actor_id))
        session.add_all(
            NotificationSetting(user_id=actor_id, kind=name, email=False) for name in sorted(off)
        )
    return off


def settle_history(session: Session, before: datetime) -> int:
    """Notifications made before `before` become history: read, never mailed. For data
    replayed in bulk (the demo's past), so a fresh install shows a few recent ones under
    the bell instead of mailing a year of events at once."""
    with command(session):
        result = session.execute(
            update(Notification)
            .where(Notification.created_at < before)
            .values(
                read_at=func.coalesce(Notification.read_at, Notification.created_at),
                email_state=case(
                    (Notification.email_state == EMAIL_PENDING, EMAIL_NONE),
                    else_=Notification.email_state,
                ),
            )
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)
