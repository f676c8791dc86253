"""Read links out of the mail outbox, the way a person would click them in their mail."""

from __future__ import annotations

import re

from sqlalchemy import select

from p2pbank.identity.models import OutboxMail

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
