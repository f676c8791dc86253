"""The mail's scheduled work: write the e-mails of new notifications, then deliver what
is due. `flask tick` and the workers call it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank.config import DEVELOPMENT_BASE_URL
from p2pbank.mail import delivery, notices
from p2pbank.mail.transport import MailSettings, installed


def run_due(
    session: Session, now: datetime, settings: MailSettings | None = None
) -> dict[str, int]:
    """Turn pending notifications into outbox mail, then deliver the due outbox mail with
    the process's mail settings (or `settings`). Without a transport (test suites)
    nothing leaves and the mail stays queued."""
    settings = settings or installed()
    base_url = settings.base_url if settings else DEVELOPMENT_BASE_URL
    done = {"mail.notifications_written": notices.queue_notification_mail(session, base_url)}
    if settings is None or settings.transport is None:
        return done
    for name, count in delivery.deliver_due(session, settings, now).items():
        done[f"mail.{name}"] = count
    return done
