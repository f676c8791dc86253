"""Notification e-mails: pending notifications become outbox rows, written in each
recipient's saved language. Runs in the scheduled mail work, before delivery, so the
domain command that caused the notification never renders or sends anything."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.identity.models import OutboxMail, User
from p2pbank.mail.rules import one_line
from p2pbank.notifications.kinds import KINDS, N_
from p2pbank.notifications.models import (
    EMAIL_NONE,
    EMAIL_PENDING,
    EMAIL_QUEUED,
    Notification,
    NotificationSetting,
)
from p2pbank.notifications.render import gettext_in, locale_for, render
from p2pbank.uow import command

BATCH = 500

GREETING = N_("Hello %(name)s,")
OPEN = N_("Open it on p2pbank:")
FOOTER = N_(
    "You get this mail because of your notification settings; choose which kinds are "
    "mailed to you at %(url)s"
)


def body_for(
    user: User, text: str, link: str | None, base_url: str, detail: str | None = None
) -> str:
    """Greeting, the sentence, what a person wrote (an update's text) if the kind has it,
    the link and why this mail came."""
    loc = locale_for(user.locale)
    parts = [gettext_in(loc, GREETING) % {"name": user.display_name}, text]
    if detail:
        parts.append(detail)
    if link:
        parts.append(f"{gettext_in(loc, OPEN)}\n{base_url}{link}")
    parts.append(gettext_in(loc, FOOTER) % {"url": f"{base_url}/settings/notifications"})
    return "\n\n".join(parts)


def queue_notification_mail(session: Session, base_url: str) -> int:
    """Write the outbox rows of up to BATCH pending notifications; how many were handled
    (a kind turned off since the event is not mailed after all)."""
    base_url = base_url.rstrip("/")
    with command(session):
        rows = session.execute(
            select(Notification, User)
            .join(User, User.id == Notification.user_id)
            .where(Notification.email_state == EMAIL_PENDING)
            .order_by(Notification.id)
            .limit(BATCH)
            .with_for_update(of=Notification, skip_locked=True)
        ).all()
        off = _turned_off(session, {user.id for _note, user in rows})
        for note, user in rows:
            note.email_state = EMAIL_QUEUED
            if note.kind in off.get(user.id, ()):
                note.email_state = EMAIL_NONE  # turned off since the event: not mailed
                continue
            text = one_line(render(note.kind, note.params, user.locale))
            body = body_for(user, text, note.link, base_url, _detail(note))
            session.add(OutboxMail(to_address=user.email, subject=text[:200], body=body[:5000]))
    return len(rows)


def _detail(note: Notification) -> str | None:
    found = KINDS.get(note.kind)
    value = note.params.get(found.detail) if found and found.detail else None
    return value if isinstance(value, str) else None


def _turned_off(session: Session, user_ids: set[int]) -> dict[int, set[str]]:
    """The kinds each person has turned off by now (they may have changed their mind
    between the event and this run)."""
    off: dict[int, set[str]] = {}
    if not user_ids:
        return off
    found = session.execute(
        select(NotificationSetting.user_id, NotificationSetting.kind).where(
            NotificationSetting.user_id.in_(sorted(user_ids)),
            NotificationSetting.email.is_(False),
        )
    )
    for user_id, kind in found:
        off.setdefault(user_id, set()).add(kind)
    return off
