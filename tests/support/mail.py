"""Read links out of the mail outbox, the way a person would click them in their mail."""

from __future__ import annotations

import re

from sqlalchemy import select

from p2pbank.identity.models import OutboxMail
from p2pbank.mail.notices import queue_notification_mail

BASE = re.escape("http://127.0.0.1:5000")  # the tests' BASE_URL


def mails_to(session, address: str) -> list[OutboxMail]:
    return list(
        session.scalars(
            select(OutboxMail).where(OutboxMail.to_address == address).order_by(OutboxMail.id)
        )
    )


def mailed_path(session, address: str, prefix: str, base: str = BASE) -> str:
    """The path of the newest link starting with `prefix` mailed to `address`."""
    pattern = re.compile(base + "(" + re.escape(prefix) + r"[A-Za-z0-9_-]+)")
    for mail in reversed(mails_to(session, address)):
        match = pattern.search(mail.body)
        if match:
            return match.group(1)
    raise AssertionError(f"no mail to {address} with a link to {prefix}...")


def sign_up_path(session, address: str, base: str = BASE) -> str:
    return mailed_path(session, address, "/signup/confirm/", base)


def notification_mails(session, address: str) -> list[OutboxMail]:
    """The mails to `address` once the scheduled mail work has written the pending
    notifications' mails (as it does before every delivery)."""
    while queue_notification_mail(session, "http://127.0.0.1:5000"):
        pass
    return mails_to(session, address)
