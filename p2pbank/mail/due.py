"""The mail's scheduled work: deliver what is due. `flask tick` and the workers call it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank.mail import delivery
from p2pbank.mail.transport import MailSettings, installed


def run_due(
    session: Session, now: datetime, settings: MailSettings | None = None
) -> dict[str, int]:
    """Deliver the due outbox mail with the process's mail settings (or `settings`).
    Without a transport (test suites) nothing leaves and the mail stays queued."""
    settings = settings or installed()
    if settings is None or settings.transport is None:
        return {}
    return {f"mail.{name}": n for name, n in delivery.deliver_due(session, settings, now).items()}
