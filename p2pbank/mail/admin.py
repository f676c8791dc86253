"""What admins see of the outbox and what they may do: list queued and failed mail,
and send a mail again. Bodies are never shown: they can hold a password-reset link."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.errors import InvalidState, NotFound, ValidationFailed
from p2pbank.identity.models import OutboxMail
from p2pbank.identity.queries import require_admin
from p2pbank.mail import rules
from p2pbank.paging import Paged, paginate
from p2pbank.uow import command

MAX_PER_PAGE = 100
LISTED = ("unsent", rules.QUEUED, rules.FAILED, rules.SENT)  # "unsent": queued and failed


@dataclass(frozen=True)
class MailPage(Paged):
    mails: list[OutboxMail]
    status: str


def mail_page(
    session: Session, actor_id: int, status: str = "unsent", page: int = 1, per_page: int = 50
) -> MailPage:
    """The outbox for an admin, newest first: failed mail first when both are listed."""
    require_admin(session, actor_id)
    if status not in LISTED:
        raise ValidationFailed("Unknown choice.", field_errors={"status": ["Unknown choice."]})
    if page < 1:
        raise ValidationFailed("page must be 1 or more", field_errors={"page": ["Must be >= 1."]})
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    stmt = select(OutboxMail)
    if status == "unsent":
        stmt = stmt.where(OutboxMail.status.in_((rules.QUEUED, rules.FAILED))).order_by(
            (OutboxMail.status == rules.FAILED).desc(), OutboxMail.id.desc()
        )
    else:
        stmt = stmt.where(OutboxMail.status == status).order_by(OutboxMail.id.desc())
    rows, total = paginate(session, stmt, page, per_page)
    return MailPage([r[0] for r in rows], status, page=page, per_page=per_page, total=total)


def retry(session: Session, actor_id: int, mail_id: int) -> OutboxMail:
    """Queue a failed mail again with a fresh round of attempts, or make a queued one due
    now. Refused for mail already sent."""
    with command(session):
        require_admin(session, actor_id)
        row = session.get(OutboxMail, mail_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFound("No such mail.")
        if not rules.may_retry(row.status):
            raise InvalidState("This mail was sent already.")
        row.status, row.next_attempt_at, row.attempts = rules.QUEUED, None, 0
    return row
