"""Deliver the outbox: claim a due row, send it, record the outcome.

A claim is a short transaction of its own (FOR UPDATE SKIP LOCKED on PostgreSQL, plus a
conditional update that also holds on SQLite), so no transaction stays open while the
SMTP server talks and two workers never send one mail twice. The claim leases the row;
a worker that dies mid-send leaves it to be tried again when the lease runs out.
"""

from __future__ import annotations

from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from p2pbank.identity.models import OutboxMail
from p2pbank.mail import rules
from p2pbank.mail.rules import one_line
from p2pbank.mail.transport import DeliveryError, MailSettings
from p2pbank.uow import command

BATCH = 200  # mails per run at most: a run stays short, the next run takes the rest


def _due(now: datetime):
    return (
        OutboxMail.status == rules.QUEUED,
        or_(OutboxMail.next_attempt_at.is_(None), OutboxMail.next_attempt_at <= now),
    )


def claim_next(session: Session, now: datetime, after_id: int = 0) -> OutboxMail | None:
    """Lease the oldest due mail past `after_id` for this worker, or None when none is left."""
    while True:
        with command(session):
            row_id = session.scalar(
                select(OutboxMail.id)
                .where(*_due(now), OutboxMail.id > after_id)
                .order_by(OutboxMail.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if row_id is None:
                return None
            won = session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == row_id, *_due(now))
                .values(attempts=OutboxMail.attempts + 1, next_attempt_at=now + rules.LEASE)
                .execution_options(synchronize_session=False)
            ).rowcount
        if won == 1:
            return session.get(OutboxMail, row_id, populate_existing=True)
        after_id = row_id  # another worker took it between our read and our update


def message_for(row: OutboxMail, settings: MailSettings, now: datetime) -> Message:
    """The mail as it leaves. Headers are encoded with `email.header.Header`: the modern
    policy's folding drops the space between two encoded words ("Street oven" arrived as
    "Streetoven"). A header that would need a line break is refused (ValueError)."""
    name, sender = parseaddr(settings.mail_from)
    for value in (row.to_address, settings.mail_from):
        if "\n" in value or "\r" in value:
            raise ValueError("a header with a line break")
    body = Charset("utf-8")
    body.body_encoding = QP  # readable as text in an .eml file, 7-bit on the wire
    message = MIMEText(row.body, "plain", body)
    message["From"] = formataddr((name, sender), charset="utf-8")
    message["To"] = row.to_address
    message["Subject"] = Header(one_line(row.subject), "utf-8")
    message["Date"] = format_datetime(now)
    domain = sender.rpartition("@")[2] or "p2pbank.invalid"
    # The same id on every attempt: a receiver that got it already can drop the copy.
    message["Message-ID"] = f"<outbox-{row.id}-{int(row.created_at.timestamp())}@{domain}>"
    return message


def _record(session: Session, row_id: int, now: datetime, error: DeliveryError | None) -> str:
    with command(session):
        row = session.get(OutboxMail, row_id, populate_existing=True)
        assert row is not None
        if error is None:
            row.status, row.sent_at, row.next_attempt_at = rules.SENT, now, None
        else:
            after = rules.after_failure(row.attempts, now, error.permanent)
            row.status, row.next_attempt_at = after.status, after.next_attempt_at
            row.last_error = str(error)[:300]
        return row.status


def deliver_due(session: Session, settings: MailSettings, now: datetime) -> dict[str, int]:
    """Send every due mail (up to BATCH); counts of sent, retrying and failed mails."""
    done = {"sent": 0, "retrying": 0, "failed": 0}
    assert settings.transport is not None
    last_id = 0
    for _ in range(BATCH):
        row = claim_next(session, now, last_id)
        if row is None:
            break
        last_id = row.id
        try:
            message = message_for(row, settings, now)
        except ValueError as exc:  # an address or header no mail can carry: never retried
            error: DeliveryError | None = DeliveryError(f"unsendable: {exc}"[:300], True)
        else:
            try:
                settings.transport.send(message, row.id)
                error = None
            except DeliveryError as exc:
                error = exc
        status = _record(session, row.id, now, error)
        done[
            "sent" if status == rules.SENT else "retrying" if status == rules.QUEUED else "failed"
        ] += 1
    return done
